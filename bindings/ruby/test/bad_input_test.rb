# frozen_string_literal: true

require_relative 'test_helper'
require 'fileutils'
require 'pathname'
require 'set'

# The bad-input matrix: every public entry point of the gem, every argument, every state.
#
# README.md "Bad input: what you get" summarises it; include/ann_errors.md is the C-level table.
# Three tables, each checked against the gem by introspection (Method#parameters), so that a
# public method or an argument added later fails `test_the_tables_cover_the_public_api` until
# it is added here:
#
# - ENTRIES: each public method of Ann::Index, Ann::AnnoyIndex, Ann::Writer and
#   Ann::SearchOptions (constructors and class methods too) and of Ann itself: what to call it
#   on, valid arguments, and the kind of each parameter (exactly the method's parameters).
#   KINDS gives, per kind, the bad values (nil always among them) and what each must give:
#   an error of exactly that class whose message says what is wrong, or a documented success
#   (n = 0, a huge search_k, dim 65,536...). A case replaces one argument.
# - STATES: each Ann::Index method in each state an index can be in (empty, items added,
#   built, loaded, shards, a live directory's reader, a writer's read handle), the drop-in
#   Ann::AnnoyIndex in its states, and every public method of a closed index, writer and
#   options object (Ann::ClosedError; readers of what it was made with, and close, still work).
# - COMBINATIONS: bad input that is a mix of arguments or objects (two keys but one vector...).
#
# After every failure, each object the case used (and a bystander index) must answer a query
# exactly as it did before the case: a failure never leaves an index changed or unusable.
module BadInput
  Raises = Struct.new(:error, :match)
  Returns = Struct.new(:check)
  OK = Returns.new(nil)
  Lazy = Struct.new(:make)
  Bad = Struct.new(:label, :value, :outcome)
  # `none` is what nil gives; a `**options` parameter gets `none_value` instead of nil.
  Kind = Struct.new(:none, :bad, :none_value)
  # `block`: a block for a method that yields without naming a block parameter.
  Entry = Struct.new(:target, :args, :kinds, :extra, :block)

  AE = Ann::ArgumentError
  NAN = Float::NAN
  INF = Float::INFINITY

  # -- data ------------------------------------------------------------------------------

  DIMS = { euclidean: 3, hamming: 70 }.freeze
  KEYS = ((0...20).to_a - [7]).freeze # 7 is a hole: below the largest key, never added
  random = Random.new(11)
  DATA = {
    euclidean: KEYS.to_h { |k| [k, Array.new(3) { Support.f32(Support.gauss(random)) }] },
    hamming: KEYS.to_h { |k| [k, Array.new(70) { random.rand(2).to_f }] }
  }.freeze
  QE = [0.25, -0.5, 0.75].freeze
  QUERIES = { euclidean: QE, hamming: Array.new(70) { |b| (b % 3).zero? ? 1.0 : 0.0 } }.freeze
  V = [0.5, 0.25, -1.0].freeze # a vector to add
  WORDS = [0b1011, 1].freeze # a hamming vector of 70 bits as packed words

  module_function

  def unpack(words, bits)
    Array.new(bits) { |b| ((words[b / 64] >> (b % 64)) & 1).to_f }
  end

  def true_distances(metric, query)
    DATA[metric].transform_values do |x|
      if metric == :hamming
        x.zip(query).count { |a, b| (a > 0.5) != (b > 0.5) }.to_f
      else
        Math.sqrt(x.zip(query).sum { |a, b| (a - b)**2 })
      end
    end
  end

  # The keys of a query result: an Array, [ids, distances], or a batch's first row.
  def ids_of(result)
    result = result.first if result.first.is_a?(Array)
    result = result.first if result.first.is_a?(Array)
    result || []
  end

  # The exhaustive answer for the call's query and n (a huge search_k or ef), ties allowed:
  # the distances of the keys found are the n smallest.
  def exhaustive?(result, args)
    metric = args.key?(:words) ? :hamming : :euclidean
    query = if args.key?(:words) then unpack(args[:words], DIMS[:hamming])
            elsif args.key?(:vector) || args.key?(:v) then args[:vector] || args[:v]
            elsif args.key?(:vectors) then args[:vectors].first
            else DATA[metric].fetch(args[:key] || args[:id] || args[:i])
            end
    truth = true_distances(metric, query)
    found = ids_of(result).map { |k| truth.fetch(k) }
    best = truth.values.sort.first(args[:n])
    found.size == best.size && found.zip(best).all? { |a, b| Support.close?(a, b, rel: 1e-5) }
  end

  def exact(query, n)
    true_distances(:euclidean, query).sort_by { |k, d| [d, k] }.first(n).map(&:first)
  end

  # -- checks of successes: called with (result, args, env) -----------------------------

  NO_RESULTS = ->(result, _args, _env) { ids_of(result).empty? }
  EVERY_ITEM = ->(result, _args, _env) { ids_of(result).sort == KEYS }
  EXHAUSTIVE = ->(result, args, _env) { exhaustive?(result, args) }
  # A new index or writer of the dim asked for works (up to 65,536; larger ones are only made).
  USABLE = lambda do |made, args, _env|
    dim = args[:dim] || args[:n_features] || 3
    begin
      next made.is_a?(Ann::AnnoyIndex) ? made.n_features == dim : made.dim == dim if dim > 65_536

      vector = Array.new(dim, 0.5)
      case made
      when Ann::Writer then made.upsert(5, vector).index { |index| index.search(vector, 2) == [5] }
      when Ann::AnnoyIndex then made.add_item(5, vector) && made.build(1) && made.get_nns_by_vector(vector, 2) == [5]
      else made.add_item(5, vector).build(1).get_nns_by_vector(vector, 2) == [5]
      end
    ensure
      made.close
    end
  end
  # Options made (or set) with a huge search_k or ef search exhaustively.
  OPTIONS_WORK = lambda do |result, _args, env|
    options = result.is_a?(Ann::SearchOptions) ? result : env.get('options')
    env.get('graph').search(QE, 3, options) == exact(QE, 3)
  ensure
    options&.close if result.is_a?(Ann::SearchOptions)
  end
  CLOSES = ->(made, _args, _env) { made.close.nil? }
  PAIR = ->(result, _args, _env) { result.size == 2 && !result.last.empty? && result.last.flatten.all?(Float) }

  def equals(expected)
    ->(result, _args, _env) { result == expected }
  end

  # -- kinds of parameters: the bad values, and what each gives ---------------------------

  def integer(label, value)
    Bad.new(label, value, Raises.new(AE, /\A\w+ must be an Integer, not #{value.class}\z/))
  end

  NOT_INTEGER = Raises.new(AE, /\A\w+ must be an Integer, not NilClass\z/)
  INTEGER_TYPES = [integer('String', '3'), integer('Float', 3.0)].freeze
  I32_LIMIT = Bad.new('2**31', 2**31, Raises.new(AE, /must be in -2147483648\.\.2147483647, got 2147483648/))

  def key_lists(name)
    [Bad.new('String', 'ab', Raises.new(AE, /\A#{name} must be an Array of keys, not String\z/)),
     Bad.new('Integer', 5, Raises.new(AE, /\A#{name} must be an Array of keys, not Integer\z/)),
     Bad.new('[Float]', [1.5], Raises.new(AE, /\A#{name} must hold Integer keys, not Float\z/)),
     Bad.new('[nil]', [nil], Raises.new(AE, /\A#{name} must hold Integer keys, not NilClass\z/)),
     Bad.new('[-1]', [-1], Raises.new(AE, /\A#{name} holds -1, which is not a key: keys are 0 to 2\*\*64 - 2\z/)),
     Bad.new('[2**64]', [2**64], Raises.new(AE, /\A#{name} holds 18446744073709551616, which is not a key/)),
     Bad.new('[2**64 - 1]', [(2**64) - 1],
             Raises.new(AE, /\A#{name} holds 18446744073709551615 \(2\*\*64 - 1, reserved/)),
     Bad.new('a Set works', Set[1], OK)]
  end

  def paths(output:, file: 'saved')
    [Bad.new('Integer', 3, Raises.new(AE, /\Apath must be a String or Pathname, not Integer\z/)),
     Bad.new('with a NUL', "x\0y", Raises.new(AE, /\Apath "x\\u0000y" contains a NUL byte\z/)),
     Bad.new('empty', '', Raises.new(Ann::IOError, /argument `path` is an empty path, which names no file/)),
     Bad.new('in a missing directory', '/nonexistent/dir/x.ann',
             Raises.new(Ann::IOError, %r{/nonexistent/dir/.*No such file or directory})),
     Bad.new(output ? 'a directory' : 'a directory that holds no index', Lazy.new(->(env) { env.directory }),
             Raises.new(Ann::IOError, output ? /dir-\d+.*Is a directory/ : /dir-\d+/)),
     Bad.new('a Pathname works', Lazy.new(->(env) { Pathname.new(output ? env.path : env.file(file)) }),
             output ? OK : Returns.new(->(made, _args, _env) { !made.is_a?(Ann::Index) || made.close.nil? }))]
  end

  def search_k_values(check)
    [*INTEGER_TYPES,
     Bad.new('-2', -2, Raises.new(AE, /search_k must be -1 \(default\) or at least 0, got -2/)),
     Bad.new('2**63', 2**63, Raises.new(AE, /\Asearch_k must be in -9223372036854775808\.\.9223372036854775807, got/)),
     Bad.new('-2**63 - 1', -(2**63) - 1, Raises.new(AE, /\Asearch_k must be in -9223372036854775808\.\./)),
     Bad.new('2**63 - 1: exhaustive', (2**63) - 1, Returns.new(check))]
  end

  def ef_values(check)
    [*INTEGER_TYPES,
     Bad.new('-1', -1, Raises.new(AE, /\Aef must be in 0\.\.18446744073709551615, got -1\z/)),
     Bad.new('2**64', 2**64, Raises.new(AE, /\Aef must be in 0\.\.18446744073709551615, got 18446744073709551616\z/)),
     Bad.new('2**64 - 1: exhaustive', (2**64) - 1, Returns.new(check))]
  end

  NAN_VALUE = /value 1 is NaN; only finite values/
  KINDS = {
    dim: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES,
      Bad.new('0', 0, Raises.new(AE, /dimension must be between 1 and 16777216, got 0/)),
      Bad.new('-1', -1, Raises.new(AE, /\Adim must be in 0\.\.4294967295, got -1\z/)),
      Bad.new('2**24 + 1', (2**24) + 1, Raises.new(AE, /dimension must be between 1 and 16777216, got 16777217/)),
      Bad.new('2**32', 2**32, Raises.new(AE, /\Adim must be in 0\.\.4294967295, got 4294967296\z/)),
      Bad.new('1 works', 1, Returns.new(USABLE)),
      Bad.new('65536 works', 65_536, Returns.new(USABLE)),
      Bad.new('2**24, the largest, works', 2**24, Returns.new(USABLE))
    ]),
    metric: Kind.new(Raises.new(AE, /\Ametric must be a Symbol or String, not NilClass\z/), [
      Bad.new('Integer', 1, Raises.new(AE, /\Ametric must be a Symbol or String, not Integer\z/)),
      Bad.new('unknown', :bogus, Raises.new(AE, /unknown metric "bogus"; expected one of angular, cosine/)),
      Bad.new('empty', '', Raises.new(AE, /unknown metric ""/)),
      Bad.new('another case', 'EUCLIDEAN', Raises.new(AE, /unknown metric "EUCLIDEAN"/)),
      Bad.new('with a NUL', "euclidean\0", Raises.new(AE, /contains a NUL byte/)),
      Bad.new('cosine is angular', 'cosine', Returns.new(USABLE))
    ]),
    # An item key where items are added: any Integer from 0 to 2**64 - 2.
    key: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES,
      Bad.new('-1', -1, Raises.new(AE, /\A\w+ must be in 0\.\.18446744073709551614, got -1\z/)),
      Bad.new('2**64', 2**64, Raises.new(AE, /must be in 0\.\.18446744073709551614, got 18446744073709551616/)),
      Bad.new('2**64 - 1', (2**64) - 1, Raises.new(AE, /18446744073709551615 \(2\*\*64 - 1\) is reserved as "no key"/)),
      Bad.new('2**63 works', 2**63, OK)
    ]),
    # An item key that is read: it must also have been added.
    item: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES,
      Bad.new('-1', -1, Raises.new(AE, /\A\w+ must be in 0\.\.18446744073709551614, got -1\z/)),
      Bad.new('2**64', 2**64, Raises.new(AE, /got 18446744073709551616/)),
      Bad.new('2**64 - 1', (2**64) - 1, Raises.new(AE, /is reserved as "no key"/)),
      Bad.new('never added', 7, Raises.new(AE, /item 7 does not exist: that key was never added/)),
      Bad.new('past the largest', 20, Raises.new(AE, /item 20 does not exist: that key was never added/)),
      Bad.new('2**40', 2**40, Raises.new(AE, /item 1099511627776 does not exist/))
    ]),
    vector: Kind.new(Raises.new(AE, /\Avector must be an Array, not NilClass\z/), [
      Bad.new('Integer', 5, Raises.new(AE, /\Avector must be an Array, not Integer\z/)),
      Bad.new('String', 'abc', Raises.new(AE, /\Avector must be an Array, not String\z/)),
      Bad.new('[String]', %w[a b c], Raises.new(AE, /\Avector must hold Numeric values, not String\z/)),
      Bad.new('[nil]', [1, nil, 2], Raises.new(AE, /\Avector must hold Numeric values, not NilClass\z/)),
      Bad.new('[Array]', [[1], 1, 2], Raises.new(AE, /\Avector must hold Numeric values, not Array\z/)),
      Bad.new('[Complex]', [Complex(1, 2), 1, 2], Raises.new(AE, /\Avector: can't convert 1\+2i into Float\z/)),
      Bad.new('too short', [1, 2], Raises.new(AE, /\Avector has 2 values, but the index needs 3\z/)),
      Bad.new('too long', [1, 2, 3, 4], Raises.new(AE, /\Avector has 4 values, but the index needs 3\z/)),
      Bad.new('empty', [], Raises.new(AE, /\Avector has 0 values, but the index needs 3\z/)),
      Bad.new('a Hash', { a: 1 }, Raises.new(AE, /\Avector has 1 values, but the index needs 3\z/)),
      Bad.new('NaN', [1, NAN, 2], Raises.new(AE, NAN_VALUE)),
      Bad.new('Infinity', [INF, 1, 2], Raises.new(AE, /value 0 is inf; only finite values/)),
      Bad.new('-Infinity', [1, 2, -INF], Raises.new(AE, /value 2 is -inf; only finite values/)),
      Bad.new('too large for float32', [1e300, 1, 2], Raises.new(AE, /value 0 is inf/)),
      Bad.new('2**200', [2**200, 1, 2], Raises.new(AE, /value 0 is inf/)),
      Bad.new('Rationals work', [Rational(1, 2), 1, 2], OK),
      Bad.new('a Range works', 1..3, OK)
    ]),
    matrix: Kind.new(Raises.new(AE, /\Avectors must be an Array of vectors, not NilClass\z/), [
      Bad.new('Integer', 5, Raises.new(AE, /\Avectors must be an Array of vectors, not Integer\z/)),
      Bad.new('String', 'abc', Raises.new(AE, /\Avectors must be an Array of vectors, not String\z/)),
      Bad.new('[nil]', [nil], Raises.new(AE, /\Avectors\[0\] must be an Array, not NilClass\z/)),
      # (Ann::Writer#upsert_batch counts the rows first: "1 keys but 3 vectors")
      Bad.new('one vector, not a matrix', [1.0, 2.0, 3.0],
              Raises.new(AE, /\Avectors\[0\] must be an Array, not Float\z|\A1 keys but 3 vectors/)),
      Bad.new('a row too short', [[1, 2]], Raises.new(AE, /\Avectors\[0\] has 2 values, but the index needs 3\z/)),
      Bad.new('[[nil]]', [[1, nil, 2]], Raises.new(AE, /\Avectors\[0\] must hold Numeric values, not NilClass\z/)),
      Bad.new('[[String]]', [%w[a b c]], Raises.new(AE, /\Avectors\[0\] must hold Numeric values, not String\z/)),
      Bad.new('NaN', [[1, NAN, 2]], Raises.new(AE, NAN_VALUE)),
      Bad.new('Infinity', [[INF, 1, 2]], Raises.new(AE, /value 0 is inf; only finite values/))
    ]),
    # Packed hamming words, for an index of 70 bits: two words.
    words: Kind.new(Raises.new(AE, /\Awords must be an Array, not NilClass\z/), [
      Bad.new('Integer', 5, Raises.new(AE, /\Awords must be an Array, not Integer\z/)),
      Bad.new('too short', [1], Raises.new(AE, /\Awords has 1 values, but the index needs 2\z/)),
      Bad.new('too long', [1, 2, 3], Raises.new(AE, /\Awords has 3 values, but the index needs 2\z/)),
      Bad.new('[Float]', [1.5, 0], Raises.new(AE, /\Aeach of words must be an Integer, not Float\z/)),
      Bad.new('[nil]', [nil, 0], Raises.new(AE, /\Aeach of words must be an Integer, not NilClass\z/)),
      Bad.new('[-1]', [-1, 0], Raises.new(AE, /\Aeach of words must be in 0\.\.18446744073709551615, got -1\z/)),
      Bad.new('[2**64]', [0, 2**64], Raises.new(AE, /got 18446744073709551616\z/)),
      Bad.new('a bit past the dim', [0, 1 << 6], Raises.new(AE, /bit/))
    ]),
    n: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES,
      Bad.new('-1', -1, Raises.new(AE, /\An must be in 0\.\.18446744073709551615, got -1\z/)),
      Bad.new('2**64', 2**64, Raises.new(AE, /\An must be in 0\.\.18446744073709551615, got 18446744073709551616\z/)),
      Bad.new('0', 0, Returns.new(NO_RESULTS)),
      Bad.new('2**63', 2**63, Returns.new(EVERY_ITEM)),
      Bad.new('2**64 - 1', (2**64) - 1, Returns.new(EVERY_ITEM))
    ]),
    # search_k of get_nns_*; of Ann::SearchOptions (with search_k=); of the search calls (nil: -1).
    search_k: Kind.new(NOT_INTEGER, search_k_values(EXHAUSTIVE)),
    options_search_k: Kind.new(NOT_INTEGER, search_k_values(OPTIONS_WORK)),
    keyword_search_k: Kind.new(OK, search_k_values(EXHAUSTIVE)),
    # ef of Ann::SearchOptions (with ef=); of the search calls (nil: 0).
    ef: Kind.new(NOT_INTEGER, ef_values(OPTIONS_WORK)),
    keyword_ef: Kind.new(OK, [*ef_values(EXHAUSTIVE), Bad.new('2**40: exhaustive', 2**40, Returns.new(EXHAUSTIVE))]),
    options: Kind.new(OK, [
      Bad.new('String', 'fast', Raises.new(AE, /\Aoptions must be an Ann::SearchOptions, not String\z/)),
      Bad.new('a Hash', { search_k: 5 }, Raises.new(AE, /\Aoptions must be an Ann::SearchOptions, not Hash\z/)),
      Bad.new('closed', Lazy.new(->(env) { env.get('closed options') }),
              Raises.new(Ann::ClosedError, /\Athese search options are closed: create new Ann::SearchOptions\z/))
    ]),
    allow: Kind.new(OK, key_lists('allow')),
    deny: Kind.new(OK, key_lists('deny')),
    keys: Kind.new(Raises.new(AE, /\Akeys must be an Array of keys, not NilClass\z/), key_lists('keys')),
    callable: Kind.new(OK, [
      Bad.new('Integer', 3,
              Raises.new(AE, /\Afilter must respond to call \(a Proc, lambda or Method\), not Integer\z/)),
      Bad.new('String', 'even', Raises.new(AE, /not String\z/))
    ]),
    # The block of a search: nil is no filter; what it raises, the search raises.
    filter_block: Kind.new(OK, [
      Bad.new('raises', proc { |_key| raise ZeroDivisionError, 'from the filter' },
              Raises.new(ZeroDivisionError, /\Afrom the filter\z/)),
      Bad.new('breaks', Lazy.new(->(_env) { proc { |_key| break true } }), Raises.new(LocalJumpError, /break/)),
      Bad.new('returns nil for every key', proc { |_key| nil }, Returns.new(NO_RESULTS))
    ]),
    # The block of SearchOptions.new: only searches call it.
    options_block: Kind.new(OK, [Bad.new('raises', proc { |_key| raise ZeroDivisionError, 'later' }, OK)]),
    # The block of a method that opens something: it is closed after the block, whatever it does.
    closing_block: Kind.new(Returns.new(CLOSES), [
      Bad.new('raises', proc { |_made| raise ZeroDivisionError, 'from the block' },
              Raises.new(ZeroDivisionError, /\Afrom the block\z/))
    ]),
    # Flags are read as Ruby reads a condition: nil and false are false, anything else true.
    include: Kind.new(OK, [Bad.new('a String is true', 'no', Returns.new(PAIR))]),
    flag: Kind.new(OK, [Bad.new('a String is true', 'no', OK)]),
    n_trees: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES, I32_LIMIT,
      Bad.new('0', 0, Raises.new(AE, /n_trees must be -1 \(automatic\) or at least 1, got 0/)),
      Bad.new('-2', -2, Raises.new(AE, /n_trees must be -1 \(automatic\) or at least 1, got -2/))
    ]),
    n_threads: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES, I32_LIMIT,
      Bad.new('0', 0, Raises.new(AE, /n_threads must be -1 \(all cores\) or at least 1, got 0/)),
      Bad.new('-2', -2, Raises.new(AE, /n_threads must be -1 \(all cores\) or at least 1, got -2/))
    ]),
    degree: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES,
      Bad.new('-1', -1, Raises.new(AE, /\Adegree must be in 0\.\.4294967295, got -1\z/)),
      Bad.new('257', 257, Raises.new(AE, /degree 257 is above the largest, 256/)),
      Bad.new('2**32', 2**32, Raises.new(AE, /\Adegree must be in 0\.\.4294967295, got 4294967296\z/))
    ]),
    seed: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES,
      Bad.new('2**64', 2**64, Raises.new(AE, /\Aseed must be in -9223372036854775808\.\.18446744073709551615, got/)),
      Bad.new('-2**63 - 1', -(2**63) - 1, Raises.new(AE, /\Aseed must be in -9223372036854775808\.\./)),
      Bad.new('-1 wraps', -1, OK)
    ]),
    path_out: Kind.new(Raises.new(AE, /\Apath must be a String or Pathname, not NilClass\z/), paths(output: true)),
    path_in: Kind.new(Raises.new(AE, /\Apath must be a String or Pathname, not NilClass\z/), paths(output: false)),
    annoy_path_in: Kind.new(Raises.new(AE, /\Apath must be a String or Pathname, not NilClass\z/),
                            paths(output: false, file: 'annoy')),
    paths: Kind.new(Raises.new(AE, /\Apaths must be an Array of paths, not NilClass\z/), [
      Bad.new('one String', 'a.ann', Raises.new(AE, /\Apaths must be an Array of paths, not String\z/)),
      Bad.new('empty', [], Raises.new(AE, /open_shards needs at least one index file/)),
      Bad.new('[nil]', [nil], Raises.new(AE, /\Apaths\[0\] must be a String or Pathname, not NilClass\z/)),
      Bad.new('[Integer]', [3], Raises.new(AE, /\Apaths\[0\] must be a String or Pathname, not Integer\z/)),
      Bad.new('[missing]', ['/nonexistent/x.ann'], Raises.new(Ann::IOError, %r{/nonexistent/x\.ann.*No such file})),
      Bad.new('[a path with a NUL]', ["x\0y"], Raises.new(AE, /contains a NUL byte/)),
      Bad.new('a file twice', Lazy.new(->(env) { [env.file('shard 0')] * 2 }),
              Raises.new(AE, /key 0 is in both .*shard-0.* keys must not repeat across shards/)),
      Bad.new('files of two dims', Lazy.new(->(env) { [env.file('shard 0'), env.file('dim 4')] }),
              Raises.new(AE, /dim/))
    ]),
    dir: Kind.new(Raises.new(AE, /\Adir must be a String or Pathname, not NilClass\z/), [
      Bad.new('Integer', 3, Raises.new(AE, /\Adir must be a String or Pathname, not Integer\z/)),
      Bad.new('empty', '', Raises.new(Ann::IOError, /argument `dir` is an empty path, which names no file/)),
      Bad.new('with a NUL', "x\0y", Raises.new(AE, /contains a NUL byte/)),
      Bad.new('a file', Lazy.new(->(env) { env.file('garbage') }), Raises.new(Ann::IOError, /garbage.*File exists/)),
      Bad.new('held by another writer', Lazy.new(->(env) { env.get('writer').dir }),
              Raises.new(Ann::StateError, /already open for writing .*close that writer first/))
    ]),
    durability: Kind.new(Raises.new(AE, /\Adurability must be :sync or :timer, not nil\z/), [
      Bad.new('Integer', 0, Raises.new(AE, /\Adurability must be :sync or :timer, not 0\z/)),
      Bad.new('unknown', :fast, Raises.new(AE, /\Adurability must be :sync or :timer, not :fast\z/)),
      Bad.new('another case', 'SYNC', Raises.new(AE, /\Adurability must be :sync or :timer, not "SYNC"\z/)),
      Bad.new('a String works', 'sync', Returns.new(CLOSES))
    ]),
    flush_ms: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES,
      Bad.new('0', 0, Raises.new(AE, /flush_ms must be between 1 and 60000, got 0/)),
      Bad.new('60001', 60_001, Raises.new(AE, /flush_ms must be between 1 and 60000, got 60001/)),
      Bad.new('-1', -1, Raises.new(AE, /\Aflush_ms must be in 0\.\.4294967295, got -1\z/)),
      Bad.new('2**32', 2**32, Raises.new(AE, /\Aflush_ms must be in 0\.\.4294967295, got 4294967296\z/))
    ]),
    writer_n_trees: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES, I32_LIMIT,
      Bad.new('0', 0, Raises.new(AE, /n_trees must be -1 or at least 1, got 0/)),
      Bad.new('-2', -2, Raises.new(AE, /n_trees must be -1 or at least 1, got -2/))
    ]),
    graph: Kind.new(Raises.new(AE, /\Agraph must be true, false or an Integer degree, not NilClass\z/), [
      Bad.new('String', 'yes', Raises.new(AE, /\Agraph must be true, false or an Integer degree, not String\z/)),
      Bad.new('Float', 1.5, Raises.new(AE, /\Agraph must be true, false or an Integer degree, not Float\z/)),
      Bad.new('0', 0, Raises.new(AE, /\Agraph must be true, false or a degree from 1 to 256, got 0\z/)),
      Bad.new('257', 257, Raises.new(AE, /degree 257 is above the largest, 256/)),
      Bad.new('2**32', 2**32, Raises.new(AE, /\Agraph must be true, false or a degree from 1 to 256, got 4294967296\z/))
    ]),
    # The **options Ann::Writer.open passes on to Ann::Writer.new.
    writer_options: Kind.new(Raises.new(AE, /\Adurability must be :sync or :timer, not nil\z/), [
      Bad.new('an unknown keyword', { bogus: 1 }, Raises.new(::ArgumentError, /\Aunknown keyword: :bogus\z/)),
      Bad.new('flush_ms: 0', { flush_ms: 0 }, Raises.new(AE, /flush_ms must be between 1 and 60000, got 0/))
    ], { durability: nil }),
    # A header-less Annoy file records neither dim nor metric: load_annoy's must fit the file.
    file_dim: Kind.new(NOT_INTEGER, [
      *INTEGER_TYPES,
      Bad.new('0', 0, Raises.new(AE, /dimension must be between 1 and 16777216, got 0/)),
      Bad.new('2**32', 2**32, Raises.new(AE, /\Adim must be in 0\.\.4294967295, got 4294967296\z/)),
      Bad.new('another dim', 4, Raises.new(Ann::CorruptFileError, /dim 4.*check the dimension and metric/))
    ]),
    file_metric: Kind.new(Raises.new(AE, /\Ametric must be a Symbol or String, not NilClass\z/), [
      Bad.new('Integer', 1, Raises.new(AE, /\Ametric must be a Symbol or String, not Integer\z/)),
      Bad.new('unknown', :bogus, Raises.new(AE, /unknown metric "bogus"/))
    ]),
    # The drop-in's own checks, as annoy-rb's: its messages, ::ArgumentError and TypeError.
    n_features: Kind.new(Raises.new(::ArgumentError, /\AExpect n_features to be Integer\.\z/), [
      Bad.new('String', '3', Raises.new(::ArgumentError, /\AExpect n_features to be Integer\.\z/)),
      Bad.new('Float (truncated, as annoy-rb does)', 3.7, Returns.new(->(made, _args, _env) { made.n_features == 3 })),
      Bad.new('0', 0, Raises.new(AE, /dimension must be between 1 and 16777216, got 0/)),
      Bad.new('-1', -1, Raises.new(AE, /\Adim must be in 0\.\.4294967295, got -1\z/)),
      Bad.new('65536 works', 65_536, Returns.new(USABLE))
    ]),
    annoy_metric: Kind.new(Raises.new(::ArgumentError, /\ANo such metric: \.\z/), [
      Bad.new('Integer', 5, Raises.new(::ArgumentError, /\ANo such metric: 5\.\z/)),
      Bad.new('unknown', 'bogus', Raises.new(::ArgumentError, /\ANo such metric: bogus\.\z/)),
      Bad.new('cosine is angular', 'cosine', Returns.new(USABLE))
    ]),
    # dtype is reported as given (libann stores float32 whatever it says).
    dtype: Kind.new(OK, [Bad.new('unknown', 'float16', OK)]),
    annoy_vector: Kind.new(Raises.new(::ArgumentError, /\AExpect item vector to be Array\.\z/), [
      Bad.new('a Range', 1..3, Raises.new(::ArgumentError, /\AExpect item vector to be Array\.\z/)),
      Bad.new('String', 'abc', Raises.new(::ArgumentError, /\AExpect item vector to be Array\.\z/)),
      Bad.new('too short', [1, 2],
              Raises.new(::ArgumentError, /\AArray size does not match to index dimensionality\.\z/)),
      Bad.new('[nil]', [1, nil, 2], Raises.new(TypeError, /\Ano implicit conversion to float from nil\z/)),
      Bad.new('[String]', [1, 'a', 2], Raises.new(TypeError, /\Ano implicit conversion to float from "a"\z/)),
      Bad.new('NaN', [1, NAN, 2], Raises.new(AE, NAN_VALUE))
    ]),
    verbose: Kind.new(OK, [Bad.new('String', 'loud', OK)])
  }.freeze

  # -- the public API: how to call each entry point well, and the kind of each parameter --

  def entry(target, kinds = {}, extra: [], block: nil, &args)
    Entry.new(target, args || ->(_env) { {} }, kinds, extra, block)
  end

  def bad(param, label, value, outcome)
    [param, Bad.new(label, value, outcome)]
  end

  GARBAGE = Lazy.new(->(env) { env.file('garbage') })
  NNS_KINDS = { n: :n, search_k: :search_k, include_distances: :include }.freeze
  SEARCH_KINDS = {
    n: :n, options: :options, search_k: :keyword_search_k, ef: :keyword_ef, allow: :allow, deny: :deny
  }.freeze
  SEARCH_ARGS = { n: 3, options: nil, search_k: nil, ef: nil, allow: nil, deny: nil }.freeze
  NNS_ARGS = { n: 3, search_k: -1, include_distances: false }.freeze
  OPENED = { prefault: :flag, block: :closing_block }.freeze
  NO_ROWS = bad(:vectors, 'no rows', [], Returns.new(->(result, _args, _env) { result == [] }))
  INDEX = 'Ann::Index'

  ENTRIES = {
    'Ann::Index.new' => entry(:class, { dim: :dim, metric: :metric }) { { dim: 3, metric: :euclidean } },
    'Ann::Index.load' => entry(:class, { path: :path_in, **OPENED },
                               extra: [bad(:path, 'not an index', GARBAGE, Raises.new(Ann::CorruptFileError, /magic/)),
                                       bad(:path, 'truncated', Lazy.new(->(env) { env.file('truncated') }),
                                           Raises.new(Ann::CorruptFileError, /truncated|size|short/))]) do |env|
      { path: env.file('saved'), prefault: false, block: nil }
    end,
    'Ann::Index.open' => entry(:class, { path: :path_in, **OPENED },
                               extra: [bad(:path, 'not an index', GARBAGE,
                                           Raises.new(Ann::CorruptFileError, /magic/))]) do |env|
      { path: env.file('saved'), prefault: false, block: nil }
    end,
    'Ann::Index.load_annoy' => entry(:class, { path: :annoy_path_in, dim: :file_dim, metric: :file_metric, **OPENED },
                                     extra: [bad(:path, 'not an index', GARBAGE,
                                                 Raises.new(Ann::CorruptFileError,
                                                            /not a whole number of 28-byte nodes/))]) do |env|
      { path: env.file('annoy'), dim: 3, metric: :euclidean, prefault: false, block: nil }
    end,
    'Ann::Index.open_shards' => entry(:class, { paths: :paths, **OPENED }) do |env|
      { paths: [env.file('shard 0'), env.file('shard 1')], prefault: false, block: nil }
    end,
    'Ann::Index#add_item' => entry('unbuilt', { id: :key, vector: :vector }) { { id: 30, vector: V } },
    'Ann::Index#add_item_packed' => entry('unbuilt hamming', { id: :key, words: :words }) { { id: 30, words: WORDS } },
    'Ann::Index#build' => entry('unbuilt', { n_trees: :n_trees, n_threads: :n_threads }) do
      { n_trees: 2, n_threads: -1 }
    end,
    'Ann::Index#build_graph' => entry('built', { degree: :degree, n_threads: :n_threads }) do
      { degree: 8, n_threads: -1 }
    end,
    'Ann::Index#export' => entry('built', { path: :path_out }) { |env| { path: env.path } },
    'Ann::Index#get_distance' => entry('built', { i: :item, j: :item }) { { i: 0, j: 1 } },
    'Ann::Index#get_item_packed' => entry('built hamming', { id: :item }) { { id: 0 } },
    'Ann::Index#get_item_vector' => entry('built', { id: :item }) { { id: 0 } },
    'Ann::Index#get_nns_by_item' => entry('built', { key: :item, **NNS_KINDS }) { { key: 1, **NNS_ARGS } },
    'Ann::Index#get_nns_by_packed' => entry('built hamming', { words: :words, **NNS_KINDS }) do
      { words: WORDS, **NNS_ARGS }
    end,
    'Ann::Index#get_nns_by_vector' => entry('built', { vector: :vector, **NNS_KINDS }) { { vector: QE, **NNS_ARGS } },
    'Ann::Index#get_nns_by_vectors' => entry('built', { vectors: :matrix, n: :n, search_k: :search_k,
                                                        n_threads: :n_threads, include_distances: :include },
                                             extra: [NO_ROWS]) do
      { vectors: [QE], n: 3, search_k: -1, n_threads: -1, include_distances: false }
    end,
    'Ann::Index#on_disk_build' => entry('unbuilt', { path: :path_out }) { |env| { path: env.path } },
    'Ann::Index#save' => entry('built', { path: :path_out }) { |env| { path: env.path } },
    'Ann::Index#save_annoy' => entry('built', { path: :path_out }) { |env| { path: env.path } },
    # The search calls run on an index with a graph, so that ef matters.
    'Ann::Index#search' => entry('graph', { vector: :vector, **SEARCH_KINDS, include_distances: :include,
                                            filter: :filter_block }) do
      { vector: QE, **SEARCH_ARGS, include_distances: false, filter: nil }
    end,
    'Ann::Index#search_by_item' => entry('graph', { key: :item, **SEARCH_KINDS, include_distances: :include,
                                                    filter: :filter_block }) do
      { key: 1, **SEARCH_ARGS, include_distances: false, filter: nil }
    end,
    'Ann::Index#search_batch' => entry('graph', { vectors: :matrix, **SEARCH_KINDS, n_threads: :n_threads,
                                                  include_distances: :include, filter: :filter_block },
                                       extra: [NO_ROWS]) do
      { vectors: [QE], **SEARCH_ARGS, n_threads: -1, include_distances: false, filter: nil }
    end,
    'Ann::Index#seed=' => entry('unbuilt', { value: :seed }) { { value: 5 } },
    'Ann::AnnoyIndex.new' => entry(:class, { n_features: :n_features, metric: :annoy_metric, dtype: :dtype }) do
      { n_features: 3, metric: 'euclidean', dtype: 'float64' }
    end,
    'Ann::AnnoyIndex#add_item' => entry('annoy unbuilt', { i: :key, v: :annoy_vector }) { { i: 30, v: V } },
    'Ann::AnnoyIndex#build' => entry('annoy unbuilt', { n_trees: :n_trees, n_jobs: :n_threads }) do
      { n_trees: 2, n_jobs: -1 }
    end,
    'Ann::AnnoyIndex#save' => entry('annoy built', { filename: :path_out, prefault: :flag }) do |env|
      { filename: env.path, prefault: false }
    end,
    'Ann::AnnoyIndex#save_annoy' => entry('annoy built', { filename: :path_out }) { |env| { filename: env.path } },
    # Loads go into a built index: a failed load must leave it answering as before.
    'Ann::AnnoyIndex#load' => entry('annoy built', { filename: :path_in, prefault: :flag },
                                    extra: [bad(:filename, 'not an index', GARBAGE,
                                                Raises.new(Ann::IOError, /is not an index/)),
                                            bad(:filename, 'another dim', Lazy.new(->(env) { env.file('dim 4') }),
                                                Raises.new(Ann::IOError,
                                                           /holds a euclidean index of dimension 4, but/))]) do |env|
      { filename: env.file('saved'), prefault: false }
    end,
    'Ann::AnnoyIndex#get_nns_by_item' => entry('annoy built', { i: :item, **NNS_KINDS }) { { i: 1, **NNS_ARGS } },
    'Ann::AnnoyIndex#get_nns_by_vector' => entry('annoy built', { v: :annoy_vector, **NNS_KINDS }) do
      { v: QE, **NNS_ARGS }
    end,
    'Ann::AnnoyIndex#get_item' => entry('annoy built', { i: :item }) { { i: 0 } },
    'Ann::AnnoyIndex#get_distance' => entry('annoy built', { i: :item, j: :item }) { { i: 0, j: 1 } },
    'Ann::AnnoyIndex#on_disk_build' => entry('annoy unbuilt', { filename: :path_out }) { |env| { filename: env.path } },
    'Ann::AnnoyIndex#verbose' => entry('annoy built', { _flag: :verbose }) { { _flag: true } },
    'Ann::AnnoyIndex#seed' => entry('annoy unbuilt', { s: :seed }) { { s: 5 } },
    'Ann::Writer.new' => entry(:class, { dir: :dir, dim: :dim, metric: :metric, durability: :durability,
                                         flush_ms: :flush_ms, n_trees: :writer_n_trees, graph: :graph }) do |env|
      { dir: env.path('.live'), dim: 3, metric: :euclidean, durability: :timer, flush_ms: 100, n_trees: 2,
        graph: false }
    end,
    'Ann::Writer.open' => entry(:class, { dir: :dir, dim: :dim, metric: :metric, options: :writer_options }) do |env|
      { dir: env.path('.live'), dim: 3, metric: :euclidean, options: { durability: :timer } }
    end,
    'Ann::Writer#upsert' => entry('writer', { key: :key, vector: :vector }) { { key: 30, vector: V } },
    'Ann::Writer#upsert_batch' => entry('writer', { keys: :keys, vectors: :matrix },
                                        extra: [bad(:vectors, 'no rows', [],
                                                    Raises.new(AE, /\A1 keys but 0 vectors/))]) do
      { keys: [30], vectors: [V] }
    end,
    'Ann::Writer#delete' => entry('writer', { key: :key },
                                  extra: [bad(:key, 'never added', 12_345, Returns.new(equals(false)))]) do
      { key: 30 }
    end,
    'Ann::Writer#delete_batch' => entry('writer', { keys: :keys },
                                        extra: [bad(:keys, 'never added', [12_345, 7], Returns.new(equals(0))),
                                                bad(:keys, 'empty', [], Returns.new(equals(0)))]) { { keys: [30] } },
    'Ann::Writer#compact' => entry('writer', { n_threads: :n_threads }) { { n_threads: 1 } },
    'Ann::Writer#index' => entry('writer', { block: :closing_block }) { { block: nil } },
    'Ann::SearchOptions.new' => entry(:class, { search_k: :options_search_k, ef: :ef, allow: :allow, deny: :deny,
                                                filter: :options_block }) do
      { search_k: -1, ef: 0, allow: nil, deny: nil, filter: nil }
    end,
    'Ann::SearchOptions#allow=' => entry('options', { keys: :allow }) { { keys: [1] } },
    'Ann::SearchOptions#deny=' => entry('options', { keys: :deny }) { { keys: [1] } },
    'Ann::SearchOptions#ef=' => entry('options', { value: :ef }) { { value: 5 } },
    'Ann::SearchOptions#search_k=' => entry('options', { value: :options_search_k }) { { value: 5 } },
    'Ann::SearchOptions#filter=' => entry('options', { callable: :callable }) { { callable: nil } },
    # For Ann::Index: runs a search (the block) with the native options.
    'Ann::SearchOptions#use' => entry('options', { foreign: :flag }, block: proc { |_pointer| 0 }) do
      { foreign: false }
    end,
    'Ann.file_info' => entry(:module, { path: :path_in },
                             extra: [bad(:path, 'not an index', GARBAGE,
                                         Returns.new(->(info, _args, _env) { info.kind == :unknown }))]) do |env|
      { path: env.file('saved') }
    end
  }.merge(
    # Methods without parameters: what they are called on.
    %w[close closed? dim metric graph? n_items n_stored n_trees seed unbuild unload verify].to_h do |name|
      ["#{INDEX}##{name}", entry('built')]
    end,
    { "#{INDEX}#refresh" => entry('reader') },
    %w[unload unbuild n_items n_trees verify close closed? dtype metric n_features index].to_h do |name|
      ["Ann::AnnoyIndex##{name}", entry('annoy built')]
    end,
    %w[sync close closed? dim dir durability flush_ms graph metric n_trees].to_h do |name|
      ["Ann::Writer##{name}", entry('writer')]
    end,
    %w[close closed? ef search_k filter].to_h { |name| ["Ann::SearchOptions##{name}", entry('options')] },
    %w[version abi_version library_path].to_h { |name| ["Ann.#{name}", entry(:module)] }
  ).freeze

  # -- the states of an index --------------------------------------------------------------

  STATE_NAMES = %w[empty unbuilt built loaded shards reader windex].freeze
  HAMMING_ONLY = %w[add_item_packed get_item_packed get_nns_by_packed].map { |name| "#{INDEX}##{name}" }.freeze
  SE = Ann::StateError
  NOT_BUILT = /the index is not built; call build first/
  ALL_OK = [OK] * 7
  QUERY = [Raises.new(SE, NOT_BUILT), Raises.new(SE, NOT_BUILT), *[OK] * 5].freeze

  def refused(pattern, count)
    [Raises.new(SE, pattern)] * count
  end

  def saves(function)
    [*refused(/\A#{function}: the index is not built; call build first/, 2), OK, OK,
     Raises.new(SE, /\A#{function}: cannot #{function[4..]} a sharded index: .*export writes them as one file/),
     *refused(/\A#{function}: cannot #{function[4..]} a live index: .*export writes its items as one file/, 2)]
  end

  def adds(function)
    [OK, OK, Raises.new(SE, /\A#{function}: cannot add items to a built index; call unbuild first/),
     Raises.new(SE, /\A#{function}: cannot add items to a loaded index: it is a read-only file mapping/),
     Raises.new(SE, /\A#{function}: cannot add items to a loaded index: it is a read-only file mapping/),
     *refused(/\A#{function}: cannot add items through a read handle of a live index: upsert through its writer/, 2)]
  end

  def by_item(function)
    [*refused(/\A#{function}: #{NOT_BUILT.source}/, 2), *[OK] * 5]
  end

  PAST = Raises.new(AE, /item 0 does not exist: that key was never added/)
  SEED_KEPT = /\Aann_set_seed: a loaded, sharded or live index keeps the seed it was built with: set the seed/
  ONE_INDEX = /\Aann_build_graph: a graph is built over one index: build it on each shard's file, or export/

  # Each Ann::Index method in each of STATE_NAMES (the packed ones on hamming indexes).
  STATES = {
    'add_item' => adds('ann_add_item'),
    'add_item_packed' => adds('ann_add_item_packed'),
    'build' => [OK, OK, Raises.new(SE, /\Aann_build: the index is already built; call unbuild first/),
                *refused(/\Aann_build: cannot build a loaded index: it is a read-only file mapping/, 4)],
    'build_graph' => [*refused(/\Aann_build_graph: the index is not built: build the forest first, then the graph/, 2),
                      OK, OK, *refused(ONE_INDEX, 3)],
    'unbuild' => [OK, OK, OK,
                  *refused(/\Aann_unbuild: cannot unbuild a loaded index: it is a read-only file mapping/, 4)],
    'on_disk_build' => [OK, OK, *refused(/\Aann_on_disk_build: on_disk_build must be called before build/, 5)],
    'save' => saves('ann_save'),
    'save_annoy' => saves('ann_save_annoy'),
    'export' => [*refused(/\Aann_export: #{NOT_BUILT.source}/, 2), *[OK] * 5],
    'verify' => [*refused(/\Aann_verify: #{NOT_BUILT.source}/, 2), *[OK] * 5],
    'get_item_vector' => [PAST, *[OK] * 6],
    'get_item_packed' => [PAST, *[OK] * 6],
    'get_distance' => [PAST, *[OK] * 6],
    'get_nns_by_item' => by_item('ann_get_nns_by_item'),
    'search_by_item' => by_item('ann_search_by_item'),
    # A loaded, sharded or live index keeps the seed it was built with.
    'seed=' => [OK, OK, OK, *refused(SEED_KEPT, 4)]
  }.merge(
    %w[get_nns_by_vector get_nns_by_packed get_nns_by_vectors search search_batch].to_h { |name| [name, QUERY] },
    %w[close closed? dim metric graph? n_items n_stored n_trees seed unload refresh].to_h { |name| [name, ALL_OK] }
  ).transform_keys { |name| "#{INDEX}##{name}" }.freeze

  # The drop-in in its states: empty, items added, built, loaded (from a file).
  ANNOY_STATE_NAMES = ['annoy empty', 'annoy unbuilt', 'annoy built', 'annoy loaded'].freeze
  ANNOY_STATES = {
    'add_item' => [OK, OK, Raises.new(SE, /cannot add items to a built index/), Raises.new(SE, /loaded index/)],
    'build' => [OK, OK, Raises.new(SE, /already built/), Raises.new(SE, /cannot build a loaded index/)],
    'save' => [*refused(/\Aann_save: #{NOT_BUILT.source}/, 2), OK, OK],
    'save_annoy' => [*refused(/\Aann_save_annoy: #{NOT_BUILT.source}/, 2), OK, OK],
    'unbuild' => [OK, OK, OK, Raises.new(SE, /cannot unbuild a loaded index/)],
    'on_disk_build' => [OK, OK, *refused(/on_disk_build must be called before build/, 2)],
    'verify' => [*refused(/\Aann_verify: #{NOT_BUILT.source}/, 2), OK, OK],
    'get_nns_by_item' => [*refused(NOT_BUILT, 2), OK, OK],
    'seed' => [OK, OK, OK, Raises.new(SE, SEED_KEPT)],
    'get_nns_by_vector' => [*refused(NOT_BUILT, 2), OK, OK],
    'get_item' => [PAST, OK, OK, OK],
    'get_distance' => [PAST, OK, OK, OK]
  }.merge(
    %w[load unload n_items n_trees verbose close closed? dtype metric n_features index].to_h { |name| [name, [OK] * 4] }
  ).transform_keys { |name| "Ann::AnnoyIndex##{name}" }.freeze

  # The closed object of each class with #close: every public method then raises
  # Ann::ClosedError, but for these, which read what it was made with (and #close, a no-op).
  CLOSED = {
    Ann::Index => ['closed index', /\Athis index is closed: create or load a new one\z/, %w[close closed? dim metric]],
    Ann::AnnoyIndex => ['closed annoy', /\Athis index is closed: create or load a new one\z/,
                        %w[close closed? n_features metric dtype index]],
    Ann::Writer => ['closed writer', /\Athis writer is closed: open a new Ann::Writer\z/,
                    %w[close closed? dir dim metric durability flush_ms n_trees graph]],
    Ann::SearchOptions => ['closed options', /\Athese search options are closed: create new Ann::SearchOptions\z/,
                           %w[close closed? search_k ef filter]]
  }.freeze

  # -- bad input that is a mix of arguments, or of objects --------------------------------

  def closed_writer_dir(env)
    env.get('closed writer').dir
  end

  COMBINATIONS = {
    'search(options and keywords)' => [
      ->(env) { env.get('graph').search(QE, 3, env.get('options'), search_k: 10) },
      Raises.new(AE, /\Apass an Ann::SearchOptions or search_k:, ef:, allow:, deny: and a block, not both\z/)
    ],
    'search_batch(options and a block)' => [
      ->(env) { env.get('graph').search_batch([QE], 3, env.get('options')) { true } },
      Raises.new(AE, /not both/)
    ],
    'Writer#upsert_batch(2 keys, 1 vector)' => [
      ->(env) { env.get('writer').upsert_batch([30, 31], [V]) },
      Raises.new(AE, /\A2 keys but 1 vectors: give one vector per key\z/)
    ],
    'Writer#upsert_batch(1 key, 2 vectors)' => [
      ->(env) { env.get('writer').upsert_batch([30], [V, V]) }, Raises.new(AE, /\A1 keys but 2 vectors/)
    ],
    'Writer.new(a directory of another dim)' => [
      ->(env) { Ann::Writer.new(closed_writer_dir(env), 4, :euclidean) },
      Raises.new(AE, /holds euclidean vectors of dim 3, not euclidean of dim 4/)
    ],
    'Writer.new(a directory of another metric)' => [
      ->(env) { Ann::Writer.new(closed_writer_dir(env), 3, :angular) },
      Raises.new(AE, /holds euclidean vectors of dim 3, not angular of dim 3/)
    ],
    'add_item_packed on a euclidean index' => [
      ->(env) { env.get('unbuilt').add_item_packed(30, [1]) },
      Raises.new(AE, /\Aann_add_item_packed: packed bits are accepted only by the hamming metric\z/)
    ],
    'get_item_packed on a euclidean index' => [
      ->(env) { env.get('built').get_item_packed(0) },
      Raises.new(AE, /\Aann_get_item_packed: packed bits exist only for the hamming metric\z/)
    ],
    'get_nns_by_packed on a euclidean index' => [
      ->(env) { env.get('built').get_nns_by_packed([1], 3) },
      Raises.new(AE, /\Aann_get_nns_packed: packed bits are accepted only by the hamming metric\z/)
    ],
    'verify a damaged file' => [->(env) { env.get('damaged').verify }, Raises.new(Ann::CorruptFileError, /checksum/)],
    'allow = nil after an allow-list' => [
      ->(env) { Ann::SearchOptions.new(allow: [1]).tap { |options| env.keep(options) }.allow = nil },
      Raises.new(SE, /\Alibann cannot remove an allow-list: create new Ann::SearchOptions\z/)
    ],
    'an index of a writer outlives the writer' => [
      lambda do |env|
        index = env.get('windex')
        env.get('writer').close
        index.search(QE, 5)
      end,
      Returns.new(->(found, _args, _env) { found == exact(QE, 5) })
    ]
  }.freeze

  # -- the objects of a case ---------------------------------------------------------------

  # The objects of one case, made on first use; each remembers how it answered a query when
  # it was made, so that a failure can be shown to leave it as it was.
  class Env
    def initialize
      @root = Dir.mktmpdir('ann-bad-input')
      @objects = {}
      @answers = {}
      @files = {}
      @count = 0
    end

    # A new path in the case's directory, not there yet.
    def path(suffix = '.ann')
      @count += 1
      File.join(@root, "out-#{@count}#{suffix}")
    end

    def directory
      @count += 1
      File.join(@root, "dir-#{@count}").tap { |dir| Dir.mkdir(dir) }
    end

    def resolve(value)
      value.is_a?(Lazy) ? value.make.call(self) : value
    end

    # Closed with the case, without being checked.
    def keep(made)
      @objects["kept #{@count += 1}"] = made
      made
    end

    # An index file (or another file) made once per case.
    def file(name, metric = :euclidean)
      @files[[name, metric]] ||= begin
        path = File.join(@root, "#{name.tr(' ', '-')}-#{metric}.ann")
        write_file(name, metric, path)
        path
      end
    end

    # The object `name` ('built', 'reader hamming', 'closed writer'...) of this case.
    def get(name)
      unless @objects.key?(name)
        made = make(name.delete_suffix(' hamming'), name.end_with?(' hamming') ? :hamming : :euclidean)
        @objects[name] = made
        @answers[name] = answer(name, made)
      end
      @objects[name]
    end

    # nil, or which object answers differently (or not at all) than it did when made.
    def changed
      @objects.each do |name, made|
        next if @answers[name].nil?

        begin
          return "#{name} answers differently after the failure" if answer(name, made) != @answers[name]
        rescue StandardError => e
          return "#{name} is unusable after the failure: #{e.class}: #{e.message}"
        end
      end
      nil
    end

    def close
      @objects.each_value { |made| made.close unless made.closed? }
      FileUtils.rm_rf(@root)
    end

    private

    def write_file(name, metric, path)
      case name
      when 'saved', 'annoy', 'truncated', 'damaged'
        index = make('built', metric)
        name == 'annoy' ? index.save_annoy(path) : index.save(path)
        index.close
        bytes = File.binread(path)
        File.binwrite(path, bytes[0, bytes.size / 2]) if name == 'truncated'
        bytes[-80..] = bytes[-80..].bytes.map { |b| b ^ 0xFF }.pack('C*') if name == 'damaged'
        File.binwrite(path, bytes) if name == 'damaged'
      when /\Ashard (\d)\z/
        shard = Ann::Index.new(DIMS[metric], metric)
        part = Regexp.last_match(1).to_i
        KEYS.each_slice(2).filter_map { |pair| pair[part] }.each { |k| shard.add_item(k, DATA[metric][k]) }
        shard.build(2).save(path).close
      when 'dim 4' then Ann::Index.new(4, :euclidean).add_item(0, [1, 2, 3, 4]).build(1).save(path).close
      when 'garbage' then File.binwrite(path, 'not an index!') # 13 bytes: no kind of index file
      else raise KeyError, name
      end
    end

    def make(name, metric)
      case name
      when 'empty' then Ann::Index.new(DIMS[metric], metric)
      when 'unbuilt' then add_items(Ann::Index.new(DIMS[metric], metric), metric)
      when 'built', 'bystander' then make('unbuilt', metric).tap { |index| index.seed = 42 }.build(3)
      when 'graph' then make('built', metric).build_graph(degree: 8)
      when 'loaded' then Ann::Index.load(file('saved', metric))
      when 'damaged' then Ann::Index.load(file('damaged', metric))
      when 'shards' then Ann::Index.open_shards([file('shard 0', metric), file('shard 1', metric)])
      when 'writer' then make_writer(metric)
      when 'reader' then Ann::Index.open(get(with_metric('writer', metric)).dir)
      when 'windex' then get(with_metric('writer', metric)).index
      when 'options' then Ann::SearchOptions.new
      when 'closed index' then make('built', metric).tap(&:close)
      when 'closed writer' then make_writer(metric).tap(&:close)
      when 'closed options' then Ann::SearchOptions.new.tap(&:close)
      when /\A(closed )?annoy(?: (\w+))?\z/
        closed = Regexp.last_match(1)
        annoy = make_annoy(Regexp.last_match(2) || 'built')
        closed ? annoy.tap(&:close) : annoy
      else raise KeyError, name
      end
    end

    def with_metric(name, metric)
      metric == :hamming ? "#{name} hamming" : name
    end

    def add_items(index, metric)
      KEYS.each { |k| index.add_item(k, DATA[metric][k]) }
      index
    end

    def make_writer(metric)
      writer = Ann::Writer.new(path('.live'), DIMS[metric], metric, durability: :timer, flush_ms: 1000, n_trees: 2)
      writer.upsert_batch(KEYS, KEYS.map { |k| DATA[metric][k] })
    end

    def make_annoy(state)
      annoy = Ann::AnnoyIndex.new(n_features: 3, metric: 'euclidean')
      return annoy if state == 'empty'
      return annoy.tap { |a| a.load(file('saved')) } if state == 'loaded'

      KEYS.each { |k| annoy.add_item(k, DATA[:euclidean][k]) }
      annoy.seed(42)
      annoy.build(3) if state == 'built'
      annoy
    end

    # What the object says to a query now (nil for closed objects).
    def answer(name, made)
      return nil if name.start_with?('closed', 'kept') || made.closed?

      query = QUERIES[name.end_with?('hamming') ? :hamming : :euclidean]
      case made
      when Ann::Writer then made.index { |index| [index.search(query, 5, include_distances: true), index.n_stored] }
      when Ann::SearchOptions then get('graph').search(QE, 5, made, include_distances: true)
      when Ann::AnnoyIndex then answer(name.sub('annoy', 'index'), made.index)
      else
        unless name.start_with?('empty', 'unbuilt', 'index empty', 'index unbuilt')
          return [made.get_nns_by_vector(query, 5, include_distances: true), made.n_items, made.n_stored, made.n_trees,
                  made.graph?]
        end
        stored = made.n_stored.zero? ? [] : KEYS.first(3).map { |k| made.get_item_vector(k) }
        [made.n_items, made.n_stored, made.n_trees, stored]
      end
    end
  end

  # -- introspection -------------------------------------------------------------------------

  CLASSES = [Ann::Index, Ann::AnnoyIndex, Ann::Writer, Ann::SearchOptions].freeze
  # Every other constant of Ann that is a class or module, and why it is no entry point.
  NOT_ENTRY_POINTS = {
    Error: 'errors', ArgumentError: 'errors', StateError: 'errors', ClosedError: 'errors', IOError: 'errors',
    CorruptFileError: 'errors', OutOfMemoryError: 'errors', InternalError: 'errors', LoadError: 'errors',
    FileInfo: 'the record Ann.file_info returns', Queries: 'mixed into Ann::Index, whose methods are listed',
    Native: 'internal: the C functions', Convert: 'internal: argument checks', Metrics: 'internal: metric names',
    Handle: 'internal: a native handle', Predicate: 'internal: a filter as a C function',
    SharedLock: 'internal: a lock', Locate: 'internal: finding libann'
  }.freeze

  # Entry name => [the callable, its parameters] for every public method of the gem.
  def public_api
    api = Ann.singleton_methods(false).to_h { |name| ["Ann.#{name}", Ann.method(name)] }
    CLASSES.each do |klass|
      api["#{klass}.new"] = klass.instance_method(:initialize)
      klass.singleton_methods(false).each { |name| api["#{klass}.#{name}"] = klass.method(name) }
      (klass.public_instance_methods - Object.public_instance_methods).each do |name|
        api["#{klass}##{name}"] = klass.instance_method(name)
      end
    end
    api
  end

  # The callable of entry `name` on the case's objects, and its parameters.
  def bound(name, target, env)
    owner, separator, method = name.rpartition(/[.#]/)
    receiver = separator == '#' ? env.get(target) : Object.const_get(owner)
    callable = receiver.method(method)
    parameters = method == 'new' ? receiver.instance_method(:initialize).parameters : callable.parameters
    [callable, parameters]
  end

  # Calls `callable` with `args` (parameter name => value) as `parameters` say, plus `block`.
  def invoke(callable, parameters, args, block = nil)
    positional = []
    keywords = {}
    parameters.each do |type, name|
      next unless args.key?(name)

      case type
      when :req, :opt then positional << args[name]
      when :key, :keyreq then keywords[name] = args[name]
      when :keyrest then keywords.merge!(args[name])
      when :block then block = args[name]
      end
    end
    callable.call(*positional, **keywords, &block)
  end

  def argument_cases
    ENTRIES.flat_map do |name, entry|
      entry.kinds.flat_map do |param, kind_name|
        kind = KINDS.fetch(kind_name)
        values = [Bad.new('nil', kind.none_value, kind.none), *kind.bad]
        values += entry.extra.select { |at, _| at == param }.map(&:last)
        values.map { |value| [name, param, value] }
      end
    end
  end

  def state_cases
    indexes = STATES.flat_map do |name, outcomes|
      suffix = HAMMING_ONLY.include?(name) ? ' hamming' : ''
      STATE_NAMES.zip(outcomes).map { |state, outcome| [name, state + suffix, outcome] }
    end
    annoys = ANNOY_STATES.flat_map do |name, outcomes|
      ANNOY_STATE_NAMES.zip(outcomes).map { |state, outcome| [name, state, outcome] }
    end
    closed = CLOSED.flat_map do |klass, (target, message, working)|
      ENTRIES.keys.grep(/\A#{klass}#/).map do |name|
        method = name.split('#').last
        where = target + (HAMMING_ONLY.include?(name) ? ' hamming' : '')
        [name, where, working.include?(method) ? OK : Raises.new(Ann::ClosedError, message)]
      end
    end
    indexes + annoys + closed
  end
end

# The cases of BadInput's tables, one test each.
class BadInputTest < Minitest::Test
  include BadInput

  def setup
    @env = Env.new
  end

  def teardown
    @env.close
  end

  # Runs `call` and checks its outcome; after a failure, that every object is as it was.
  def check(outcome, args = {}, &call)
    @env.get('bystander') # an index the call has nothing to do with, checked too
    if outcome.is_a?(Returns)
      result = call.call
      assert outcome.check.call(result, args, @env), "returned #{result.inspect[0, 300]}" if outcome.check
      return
    end
    error = assert_raises(Exception, &call)
    assert_instance_of outcome.error, error, "raised #{error.class}: #{error.message}"
    refute_empty error.message.strip
    assert_match outcome.match, error.message
    assert_equal error.class.default_status, error.status if error.is_a?(Ann::Error)
    assert_nil @env.changed
  end

  BadInput.argument_cases.each do |name, param, bad|
    define_method("test_#{name}(#{param}: #{bad.label})") do
      entry = ENTRIES.fetch(name)
      args = entry.args.call(@env)
      args[param] = @env.resolve(bad.value)
      callable, parameters = bound(name, entry.target, @env)
      check(bad.outcome, args) { invoke(callable, parameters, args, entry.block) }
    end
  end

  BadInput.state_cases.each do |name, state, outcome|
    define_method("test_#{name} on #{state}") do
      entry = ENTRIES.fetch(name)
      args = entry.args.call(@env)
      callable, parameters = bound(name, state, @env)
      check(outcome, args) { invoke(callable, parameters, args, entry.block) }
    end
  end

  COMBINATIONS.each do |label, (call, outcome)|
    define_method("test_#{label}") { check(outcome) { call.call(@env) } }
  end

  def test_the_tables_cover_the_public_api
    api = public_api
    missing = api.keys - ENTRIES.keys
    assert_empty missing, "public methods without a row: add them to ENTRIES (and STATES) in #{__FILE__}"
    assert_empty ENTRIES.keys - api.keys, 'rows for methods that are not public any more'
    ENTRIES.each do |name, entry|
      names = api[name].parameters.map(&:last)
      assert_equal names, entry.kinds.keys, "#{name}#{api[name].parameters}: give each parameter its kind in ENTRIES"
      entry.kinds.each { |param, kind| assert KINDS.key?(kind), "#{name}(#{param}): no kind #{kind} in KINDS" }
      entry.extra.each { |param, _| assert_includes entry.kinds.keys, param, "#{name}: extra value for #{param}" }
    end
    assert_equal api.keys.grep(/\AAnn::Index#/).sort, STATES.keys.sort, 'give each Ann::Index method its row in STATES'
    assert_equal api.keys.grep(/\AAnn::AnnoyIndex#/).sort, ANNOY_STATES.keys.sort, 'and each Ann::AnnoyIndex method'
    assert(STATES.values.all? { |row| row.size == STATE_NAMES.size })
    closable = CLASSES.select { |klass| klass.public_method_defined?(:close) }
    assert_equal closable, CLOSED.keys, 'give each class with #close its closed object in CLOSED'
    others = Ann.constants.map { |name| [name, Ann.const_get(name)] }.select { |_, value| value.is_a?(Module) }
    unknown = others.map(&:first) - CLASSES.map { |klass| klass.name.split('::').last.to_sym } - NOT_ENTRY_POINTS.keys
    assert_empty unknown, 'a new class or module of Ann: add it to CLASSES (with its rows) or NOT_ENTRY_POINTS'
  end
end
