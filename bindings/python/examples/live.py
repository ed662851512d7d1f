import ann

with ann.Writer("vectors.live", 3, "euclidean") as writer:  # creates the directory
    writer.upsert(1, [1.0, 0.0, 0.0])  # returns once the write is synced to the log
    writer.upsert_many([2, 3], [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # or a float32 numpy matrix
    index = writer.index()  # an AnnoyIndex that sees every write as soon as it returns
    print(index.get_nns_by_vector([1.0, 0.1, 0.0], 2))
    writer.upsert(1, [0.0, 1.0, 0.1])  # replaces item 1
    print(writer.delete(2), writer.delete(42))  # whether each key was there
    print(index.search([1.0, 0.1, 0.0], 10))  # two items are left

    reader = ann.open("vectors.live")  # from any process: read-only, no lock
    writer.upsert(4, [1.0, 1.0, 2.0])
    print(reader.get_n_stored(), reader.refresh(), reader.get_n_stored())  # caught up by refresh
    writer.compact()  # folds everything into one segment with trees; readers keep working
    reader.refresh()
    reader.export("vectors.ann")  # one immutable file, as save writes it

print(ann.open("vectors.ann").get_nns_by_item(1, 3))
