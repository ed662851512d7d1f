import hashlib

from ann import AnnoyIndex, SearchOptions


def key_of(name):  # any int from 0 to 2**64 - 2 is a key: here a 64-bit hash of a name
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little") % (2**64 - 1)


names = [f"doc-{n}" for n in range(1000)]
vectors = {name: [n % 10, n // 100, n % 7] for n, name in enumerate(names)}
name_of = {key_of(name): name for name in names}

for part in (0, 1):  # two shards, built and saved separately
    shard = AnnoyIndex(3, "euclidean")
    for name in names[part::2]:
        shard.add_item(key_of(name), vectors[name])
    shard.build(10)
    shard.save(f"part{part}.ann")

index = AnnoyIndex(3, "euclidean")
index.load_shards(["part0.ann", "part1.ann"])  # one read-only index over both files
print(index.get_n_stored(), index.get_n_trees())  # 1000 items, 20 trees

query = vectors["doc-42"]
# A filtered search returns exactly min(n, accepted) results, nearest first.
few = index.search(query, 5, allow=[key_of("doc-1"), key_of("doc-999")])
print([name_of[key] for key in few])  # only 2 keys are allowed: 2 results

# Options made once serve many searches, from any thread; the filter may be any callable.
with SearchOptions(filter=lambda key: name_of[key].endswith("7"), search_k=2000) as sevens:
    ids, distances = index.search(query, 3, sevens, include_distances=True)
    print([name_of[key] for key in ids])
    rows = index.search_batch([vectors["doc-0"], vectors["doc-500"]], 3, sevens)
    print(rows.shape)  # (2 queries, 3 results): numpy arrays, as get_nns_by_vectors returns
