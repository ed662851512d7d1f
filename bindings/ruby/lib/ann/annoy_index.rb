# frozen_string_literal: true

require_relative 'file_info'
require_relative 'index'
require_relative 'metrics'

module Ann
  # A drop-in for annoy-rb's Annoy::AnnoyIndex: the same keyword constructor, method names,
  # return values and ArgumentError messages, over libann. Switching is one line:
  #
  #   index = Ann::AnnoyIndex.new(n_features: 40, metric: 'angular') # was Annoy::AnnoyIndex
  #
  # Differences, all documented in README.md:
  # - libann stores float32 whatever `dtype` says ('float64' is reported but not kept):
  #   vectors and distances are float32 values widened to Float.
  # - hamming: as in annoy-rb, `n_features` counts 64-bit words and vectors are Arrays of
  #   Integer words (0...2**64); distances are Integers.
  # - Errors libann reports are Ann::Error subclasses, which are RuntimeErrors, as annoy-rb's
  #   are; reading an id never added raises Ann::ArgumentError instead of returning garbage.
  # - Ids are Integers from 0 to 2**64 - 2 (annoy-rb's stop at 2**31 - 1, with a RangeError).
  #   Ids beyond 2**31 - 2, or too sparse, are stored compactly: n_items stays the largest id
  #   + 1, `index.n_stored` counts the items, and #save_annoy refuses such an index.
  # - #save writes libann's self-describing file (#save_annoy writes Annoy's header-less
  #   form); #load reads both, telling them apart by their header.
  class AnnoyIndex
    # The number of features: values per vector, or 64-bit words for hamming.
    attr_reader :n_features
    # The metric as given to the constructor.
    attr_reader :metric
    # The dtype as given ('float64' by default), or 'uint64' for hamming.
    attr_reader :dtype
    # The Ann::Index doing the work, for the features annoy-rb lacks (batch queries, ...).
    attr_reader :index

    def initialize(n_features:, metric: 'angular', dtype: 'float64')
      raise ::ArgumentError, 'Expect n_features to be Integer.' unless n_features.is_a?(Numeric)

      @n_features = n_features.to_i
      @metric = metric
      @hamming = metric_symbol(metric) == :hamming
      @dtype = @hamming ? 'uint64' : dtype
      @index = Index.new(dim, metric)
    end

    # Adds item `i` (0 to 2**64 - 2) with vector `v`, an Array of n_features values. Returns true.
    def add_item(i, v)
      values = item_vector(v)
      @hamming ? @index.add_item_packed(i, values) : @index.add_item(i, values)
      true
    end

    # Builds `n_trees` trees on `n_jobs` threads (-1: every core). Returns true.
    def build(n_trees, n_jobs: -1)
      @index.build(n_trees, n_threads: n_jobs)
      true
    end

    # Saves the built index to `filename` in libann's self-describing format and, as Annoy
    # does, then maps that file: no more items can be added. Returns true.
    def save(filename, prefault: false)
      @index.save(filename)
      replace(Index.load(filename, prefault: prefault))
      true
    end

    # Writes the header-less file that Annoy (and annoy-rb with dtype 'float32') loads.
    def save_annoy(filename)
      @index.save_annoy(filename)
      true
    end

    # Memory-maps `filename`: a libann file, whose metric and dimension must match this index,
    # or a header-less Annoy file, read with this index's metric and n_features. Returns true.
    # Raises Ann::ClosedError after #close, as every other call does.
    def load(filename, prefault: false)
      raise ClosedError, Handle::INDEX_CLOSED if closed?

      loaded = case Ann.file_info(filename).kind
               when :native then matching(Index.load(filename, prefault: prefault), filename)
               when :annoy then Index.load_annoy(filename, dim, metric, prefault: prefault)
               else raise Ann::IOError, "#{filename} is not an index: it is empty or its size is not a multiple of 4"
               end
      replace(loaded)
      true
    end

    # Releases the memory or file mapping; the index is empty again. Returns true.
    def unload
      @index.unload
      true
    end

    # Drops the trees, keeping the items, so more can be added. Returns true.
    def unbuild
      @index.unbuild
      true
    end

    def get_nns_by_item(i, n, search_k: -1, include_distances: false)
      widen(@index.get_nns_by_item(i, n, search_k: search_k, include_distances: include_distances),
            include_distances)
    end

    def get_nns_by_vector(v, n, search_k: -1, include_distances: false)
      values = item_vector(v)
      options = { search_k: search_k, include_distances: include_distances }
      found = @hamming ? @index.get_nns_by_packed(values, n, **options) : @index.get_nns_by_vector(values, n, **options)
      widen(found, include_distances)
    end

    # Item `i`'s vector: Floats, or Integer words for hamming.
    def get_item(i)
      @hamming ? @index.get_item_packed(i) : @index.get_item_vector(i)
    end

    # The distance between items `i` and `j`: a Float, or an Integer for hamming.
    def get_distance(i, j)
      distance = @index.get_distance(i, j)
      @hamming ? distance.to_i : distance
    end

    def n_items
      @index.n_items
    end

    def n_trees
      @index.n_trees
    end

    # Builds into `filename` instead of memory; call before adding items. Returns true.
    def on_disk_build(filename)
      @index.on_disk_build(filename)
      true
    end

    # Accepted for annoy-rb compatibility; libann reports problems by raising instead. Raises
    # Ann::ClosedError after #close, as every other call does.
    def verbose(_flag)
      raise ClosedError, Handle::INDEX_CLOSED if closed?

      nil
    end

    # Sets the seed of the next build (negative values wrap to 64 bits, as in annoy-rb).
    def seed(s)
      @index.seed = s
      nil
    end

    # Checks the whole index (body checksum, every tree). Returns true.
    def verify
      @index.verify
    end

    # Frees the native index now; later calls raise Ann::ClosedError.
    def close
      @index.close
    end

    def closed?
      @index.closed?
    end

    private

    # libann's dimension: values, or bits for hamming (64 per word).
    def dim
      @hamming ? 64 * n_features : n_features
    end

    def metric_symbol(metric)
      Metrics.name(Metrics.code(metric))
    rescue Ann::ArgumentError
      raise ::ArgumentError, "No such metric: #{metric}."
    end

    # annoy-rb's checks and conversions: an Array of n_features Numerics (Integers for hamming).
    def item_vector(vector)
      raise ::ArgumentError, 'Expect item vector to be Array.' unless vector.is_a?(Array)
      raise ::ArgumentError, 'Array size does not match to index dimensionality.' if vector.size != n_features

      type = @hamming ? 'integer' : 'float'
      vector.map do |x|
        raise TypeError, "no implicit conversion to #{type} from #{x.inspect}" unless x.is_a?(Numeric)

        @hamming ? Integer(x) : Float(x)
      end
    end

    # Integer distances for hamming, as annoy-rb returns them.
    def widen(found, include_distances)
      return found unless include_distances && @hamming

      [found[0], found[1].map(&:to_i)]
    end

    # `loaded` if its metric and dimension are this index's; otherwise closes it and raises.
    def matching(loaded, filename)
      return loaded if loaded.metric == metric_symbol(metric) && loaded.dim == dim

      loaded.close
      features = loaded.metric == :hamming ? "#{loaded.dim} bits" : "dimension #{loaded.dim}"
      raise Ann::IOError, "#{filename} holds a #{loaded.metric} index of #{features}, but this index was " \
                          "created with n_features: #{n_features}, metric: #{metric.inspect}"
    end

    # Swaps in a newly loaded index and frees the old one (after its running queries).
    def replace(loaded)
      old = @index
      @index = loaded
      old.close
    end
  end
end
