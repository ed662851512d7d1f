import random

from ann import AnnoyIndex

f = 40
index = AnnoyIndex(f, "angular")  # or "cosine", "euclidean", "manhattan", "dot", "hamming"
for i in range(1000):
    index.add_item(i, [random.gauss(0, 1) for _ in range(f)])
index.set_seed(42)
index.build(10)  # 10 trees, built on every core
index.save("vectors.ann")  # as in Annoy, the index then maps the saved file

reader = AnnoyIndex(f, "angular")
reader.load("vectors.ann")  # an O(1) memory map that processes share
print(reader.get_nns_by_item(0, 10))
ids, distances = reader.get_nns_by_vector([0.5] * f, 10, include_distances=True)

bits = AnnoyIndex(128, "hamming")  # 128 bits per item: two packed 64-bit words
bits.add_item_bits(0, [0b1011, 0])
bits.add_item_bits(1, [0b1111, 1 << 63])
bits.build(2)
print(bits.get_nns_by_bits([0b1011, 0], 2, include_distances=True))
