// The cross-language program in C++, over ann.hpp (protocol: bindings/README.md).
//   interop build <metric> <dim> <vectors.f32> <n_trees> <seed> <out.ann> <out.annoy>
//   interop query <native|annoy> <index file> <metric> <dim> <queries.f32> <n> <search_k>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "ann.hpp"

namespace {

std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

uint32_t bits(float value) {
  uint32_t out;
  std::memcpy(&out, &value, sizeof out);
  return out;
}

void print(char tag, size_t row, const std::vector<ann::Neighbor>& hits) {
  std::printf("%c%zu:", tag, row);
  for (const auto& hit : hits) std::printf(" %" PRIu64 ":%08x", hit.id, bits(hit.distance));
  std::printf("\n");
}

void build(char** argv) {
  ann::Metric metric = ann::metric_from_name(argv[2]);
  uint32_t dim = uint32_t(std::stoul(argv[3]));
  std::vector<float> vectors = read_floats(argv[4]);
  ann::Index index(dim, metric);
  for (size_t i = 0; i < vectors.size() / dim; i++) index.add_item(i, vectors.data() + i * dim);
  index.set_seed(std::stoull(argv[6]));
  index.build(std::stoi(argv[5]));
  index.save(argv[7]);
  index.save_annoy(argv[8]);
  index.build_graph(16);
  index.save(argv[9]);
}

void query(char** argv) {
  ann::Metric metric = ann::metric_from_name(argv[4]);
  uint32_t dim = uint32_t(std::stoul(argv[5]));
  size_t n = std::stoull(argv[7]);
  int64_t search_k = std::stoll(argv[8]);
  ann::Index index = std::strcmp(argv[2], "native") == 0 ? ann::Index::load(argv[3])
                                                           : ann::Index::load_annoy(argv[3], dim, metric);
  if (index.dim() != dim || index.metric() != metric)
    throw std::runtime_error("the file's dim or metric differs from the arguments");
  std::printf("n_items %" PRIu64 " n_trees %u dim %u metric %s\n", index.n_items(), index.n_trees(),
              dim, ann::metric_name(metric).c_str());
  std::vector<float> queries = read_floats(argv[6]);
  for (size_t q = 0; q < queries.size() / dim; q++)
    print('q', q, index.get_nns_by_vector(queries.data() + q * dim, n, search_k));
  size_t shown = index.n_items() < 5 ? size_t(index.n_items()) : 5;
  for (size_t i = 0; i < shown; i++) print('i', i, index.get_nns_by_item(i, n, search_k));
  for (size_t i = 0; i < shown; i++) {
    std::printf("v%zu:", i);
    for (float value : index.get_item_vector(i)) std::printf(" %08x", bits(value));
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 10 && std::strcmp(argv[1], "build") == 0) return build(argv), 0;
    if (argc == 9 && std::strcmp(argv[1], "query") == 0) return query(argv), 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: interop build <metric> <dim> <vectors.f32> <n_trees> <seed> <out.ann> <out.annoy>\n"
               "                    <out.graph.ann>\n"
               "       interop query <native|annoy> <index> <metric> <dim> <queries.f32> <n> <search_k>\n");
  return 2;
}
