# frozen_string_literal: true

$LOAD_PATH.unshift(File.expand_path('../lib', __dir__))
require 'ann'
require 'minitest/autorun'
require 'tmpdir'

# Any warning from the gem's own code fails the run (test.sh also runs Ruby with -w).
module FailOnOwnWarnings
  LIB = File.expand_path('../lib', __dir__)

  def warn(message, *args, **kwargs)
    raise "warning from the gem: #{message}" if message.include?(LIB)

    super
  end
end
Warning.singleton_class.prepend(FailOnOwnWarnings)

# Data, ground truth and comparisons shared by the tests.
module Support
  METRICS = %i[angular euclidean manhattan dot hamming].freeze
  FIXTURES = File.expand_path('../../../tests/fixtures/annoy', __dir__)

  module_function

  # `n` random vectors of `dim` values: 0/1 for hamming, Gaussian-ish otherwise.
  def dataset(metric, n, dim, seed: 1)
    random = Random.new(seed)
    Array.new(n) do
      Array.new(dim) { metric == :hamming ? random.rand(2).to_f : gauss(random) }
    end
  end

  def gauss(random)
    Math.sqrt(-2 * Math.log(1 - random.rand)) * Math.cos(2 * Math::PI * random.rand)
  end

  # A built index of `data`, seeded so that every run builds the same trees.
  def build(metric, data, n_trees: 10, seed: 42)
    index = Ann::Index.new(data.first.size, metric)
    data.each_with_index { |vector, id| index.add_item(id, vector) }
    index.seed = seed
    index.build(n_trees)
  end

  # The distance as libann reports it, in double precision.
  def distance(metric, a, b)
    case metric
    when :angular
      cos = dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b))
      Math.sqrt([2 - (2 * cos), 0].max)
    when :euclidean then Math.sqrt(a.zip(b).sum { |x, y| (x - y)**2 })
    when :manhattan then a.zip(b).sum { |x, y| (x - y).abs }
    when :dot then dot(a, b)
    when :hamming then a.zip(b).count { |x, y| (x > 0.5) != (y > 0.5) }.to_f
    end
  end

  def dot(a, b)
    a.zip(b).sum { |x, y| x * y }
  end

  # The ids of the `n` true nearest neighbours of `query` (largest inner product for dot).
  def brute_force(metric, data, query, n)
    order = data.each_index.sort_by do |id|
      d = distance(metric, data[id], query)
      [metric == :dot ? -d : d, id]
    end
    order.first(n)
  end

  # Equal within float32 rounding, relative, with a small absolute floor near 0.
  def close?(a, b, rel: 1e-4)
    (a - b).abs <= [rel * [a.abs, b.abs].max, 1e-5].max
  end

  # Float32 as Ruby sees it after a round trip through C.
  def f32(value)
    [value].pack('e').unpack1('e')
  end

  def tmpdir(&block)
    Dir.mktmpdir('ann-ruby-test', &block)
  end
end
