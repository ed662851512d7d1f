// Datasets for the side-by-side benchmark: .npy (float16/float32/int32), .fvecs/.ivecs, a
// seeded synthetic set for the smoke run, and exact ground truth computed by brute force.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bench {

// Row-major matrix of float32 (vectors) or int32 (ground-truth ids).
template <typename T>
struct Matrix {
  size_t rows = 0, cols = 0;
  std::vector<T> data;
  const T* row(size_t r) const { return data.data() + r * cols; }
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        e++;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      bits = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// A 2-d C-order .npy array of '<f2', '<f4' or '<i4', converted to T.
template <typename T>
Matrix<T> load_npy(const std::string& path) {
  std::string bytes = read_file(path);
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error(path + ": not a .npy file");
  size_t header_len, at;
  if (bytes[6] == 1) {
    header_len = uint8_t(bytes[8]) | size_t(uint8_t(bytes[9])) << 8;
    at = 10;
  } else {
    header_len = uint8_t(bytes[8]) | size_t(uint8_t(bytes[9])) << 8 | size_t(uint8_t(bytes[10])) << 16 |
                 size_t(uint8_t(bytes[11])) << 24;
    at = 12;
  }
  std::string header = bytes.substr(at, header_len);
  at += header_len;
  auto field = [&](const std::string& key) {
    size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) throw std::runtime_error(path + ": no " + key + " in the .npy header");
    return header.substr(header.find(':', k) + 1);
  };
  std::string descr = field("descr");
  descr = descr.substr(descr.find('\'') + 1, 3);
  if (field("fortran_order").find("False") > 2) throw std::runtime_error(path + ": Fortran order is not supported");
  std::string shape = field("shape");
  Matrix<T> m;
  if (std::sscanf(shape.c_str(), " (%zu, %zu)", &m.rows, &m.cols) != 2) throw std::runtime_error(path + ": not 2-d");
  size_t n = m.rows * m.cols, width = descr == "<f2" ? 2 : 4;
  if (bytes.size() < at + n * width) throw std::runtime_error(path + ": truncated");
  m.data.resize(n);
  const char* p = bytes.data() + at;
  for (size_t i = 0; i < n; i++) {
    if (descr == "<f2") {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      m.data[i] = T(half_to_float(h));
    } else if (descr == "<f4") {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      m.data[i] = T(f);
    } else if (descr == "<i4") {
      int32_t v;
      std::memcpy(&v, p + 4 * i, 4);
      m.data[i] = T(v);
    } else {
      throw std::runtime_error(path + ": dtype " + descr + " is not supported (float16, float32, int32)");
    }
  }
  return m;
}

// .fvecs / .ivecs: each row is an int32 dimension, then that many float32 / int32 values.
template <typename T>
Matrix<T> load_vecs(const std::string& path) {
  std::string bytes = read_file(path);
  Matrix<T> m;
  for (size_t at = 0; at + 4 <= bytes.size();) {
    int32_t d;
    std::memcpy(&d, bytes.data() + at, 4);
    if (d <= 0 || (m.cols && size_t(d) != m.cols) || at + 4 + 4 * size_t(d) > bytes.size())
      throw std::runtime_error(path + ": malformed row " + std::to_string(m.rows));
    m.cols = size_t(d);
    for (int32_t i = 0; i < d; i++) {
      if (std::is_same<T, float>::value) {
        float f;
        std::memcpy(&f, bytes.data() + at + 4 + 4 * i, 4);
        m.data.push_back(T(f));
      } else {
        int32_t v;
        std::memcpy(&v, bytes.data() + at + 4 + 4 * i, 4);
        m.data.push_back(T(v));
      }
    }
    m.rows++;
    at += 4 + 4 * size_t(d);
  }
  return m;
}

template <typename T>
Matrix<T> load_matrix(const std::string& path) {
  return ends_with(path, ".npy") ? load_npy<T>(path) : load_vecs<T>(path);
}

inline void save_ivecs(const std::string& path, const Matrix<int32_t>& m) {
  std::ofstream out(path, std::ios::binary);
  for (size_t r = 0; r < m.rows; r++) {
    int32_t d = int32_t(m.cols);
    out.write(reinterpret_cast<const char*>(&d), 4);
    out.write(reinterpret_cast<const char*>(m.row(r)), std::streamsize(4 * m.cols));
  }
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Seeded Gaussian vectors: the smoke run's data, needing nothing outside the repository.
inline Matrix<float> synthetic(size_t rows, size_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  Matrix<float> m;
  m.rows = rows;
  m.cols = cols;
  m.data.resize(rows * cols);
  for (float& x : m.data) x = gauss(rng);
  return m;
}

// Exact top-k ids per query (nearest first, ties to the smaller id), on every core, among the
// rows listed in `subset` (all rows when it is empty).
inline Matrix<int32_t> brute_force(const Matrix<float>& base, const Matrix<float>& queries, const std::string& metric,
                                   size_t k, const std::vector<int32_t>& subset = {}) {
  Matrix<int32_t> truth;
  truth.rows = queries.rows;
  truth.cols = k;
  truth.data.resize(queries.rows * k);
  std::vector<double> norms(base.rows);
  for (size_t i = 0; i < base.rows; i++) {
    double s = 0;
    for (size_t j = 0; j < base.cols; j++) s += double(base.row(i)[j]) * base.row(i)[j];
    norms[i] = std::sqrt(s);
  }
  std::vector<int32_t> rows = subset;
  if (rows.empty())
    for (size_t i = 0; i < base.rows; i++) rows.push_back(int32_t(i));
  auto work = [&](size_t first, size_t step) {
    std::vector<std::pair<double, int32_t>> scored(rows.size());
    for (size_t q = first; q < queries.rows; q += step) {
      const float* v = queries.row(q);
      for (size_t r = 0; r < rows.size(); r++) {
        size_t i = size_t(rows[r]);
        const float* x = base.row(i);
        double d = 0;
        if (metric == "euclidean") {
          for (size_t j = 0; j < base.cols; j++) d += (double(v[j]) - x[j]) * (double(v[j]) - x[j]);
        } else if (metric == "manhattan") {
          for (size_t j = 0; j < base.cols; j++) d += std::fabs(double(v[j]) - x[j]);
        } else {
          for (size_t j = 0; j < base.cols; j++) d += double(v[j]) * x[j];
          d = metric == "dot" ? -d : -(norms[i] > 0 ? d / norms[i] : 0.0);
        }
        scored[r] = {d, int32_t(i)};
      }
      size_t top = std::min(k, scored.size());
      std::partial_sort(scored.begin(), scored.begin() + long(top), scored.end());
      for (size_t r = 0; r < k; r++) truth.data[q * k + r] = r < top ? scored[r].second : -1;
    }
  };
  size_t n_threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < n_threads; t++) threads.emplace_back(work, t, n_threads);
  for (auto& t : threads) t.join();
  return truth;
}

// Where a benchmark's vectors come from: .npy/.fvecs files with their ground truth, or a
// seeded synthetic set (`synthetic_rows` > 0) whose truth is computed and cached in `work`.
struct DataSource {
  std::string name, metric, base, queries, truth, work = "/tmp";
  size_t limit = 0, n = 10, synthetic_rows = 0, synthetic_dim = 0, synthetic_queries = 0;
};

// Reads one of the flags every benchmark takes for its data; false when `flag` is another.
inline bool parse_source_flag(DataSource& o, const std::string& flag, const std::string& v) {
  if (flag == "--name") o.name = v;
  else if (flag == "--metric") o.metric = v;
  else if (flag == "--base") o.base = v;
  else if (flag == "--queries") o.queries = v;
  else if (flag == "--truth") o.truth = v;
  else if (flag == "--work") o.work = v;
  else if (flag == "--limit") o.limit = std::stoul(v);
  else if (flag == "--synthetic") {
    std::stringstream s(v);
    std::vector<size_t> parts;
    for (std::string item; std::getline(s, item, ',');) parts.push_back(std::stoul(item));
    if (parts.size() != 3) throw std::runtime_error("--synthetic ROWS,DIM,QUERIES");
    o.synthetic_rows = parts[0], o.synthetic_dim = parts[1], o.synthetic_queries = parts[2];
  } else return false;
  return true;
}

struct Dataset {
  Matrix<float> base, queries;
  Matrix<int32_t> truth;  // the exact top-n ids of each query
};

// Loads (or makes) the vectors, keeps the first `limit` rows when set, and finds the truth:
// the given file when it fits, else a brute-force answer cached in `work`.
inline Dataset load_dataset(const DataSource& o) {
  Dataset d;
  if (o.synthetic_rows) {
    d.base = synthetic(o.synthetic_rows, o.synthetic_dim, 1);
    d.queries = synthetic(o.synthetic_queries, o.synthetic_dim, 2);
  } else {
    d.base = load_matrix<float>(o.base);
    d.queries = load_matrix<float>(o.queries);
  }
  if (o.limit && o.limit < d.base.rows) {
    d.base.rows = o.limit;
    d.base.data.resize(d.base.rows * d.base.cols);
  }
  if (d.base.cols != d.queries.cols) throw std::runtime_error("base and queries differ in dimension");
  if (!o.truth.empty() && file_exists(o.truth) && !o.limit) {
    d.truth = load_matrix<int32_t>(o.truth);
  } else {
    std::string cached =
        o.work + "/truth-" + o.name + "-" + o.metric + "-" + std::to_string(d.base.rows) + ".ivecs";
    if (file_exists(cached)) {
      d.truth = load_matrix<int32_t>(cached);
    } else {
      std::fprintf(stderr, "[%s] computing exact neighbours by brute force\n", o.name.c_str());
      d.truth = brute_force(d.base, d.queries, o.metric, o.n);
      save_ivecs(cached, d.truth);
    }
  }
  if (d.truth.rows != d.queries.rows || d.truth.cols < o.n)
    throw std::runtime_error("ground truth does not fit the queries");
  return d;
}

}  // namespace bench
