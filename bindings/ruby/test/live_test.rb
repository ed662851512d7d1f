# frozen_string_literal: true

require_relative 'test_helper'
require 'fileutils'
require 'json'
require 'open3'
require 'pathname'
require 'rbconfig'

# Live indexes: Ann::Writer, Ann::Index.open on a directory, #refresh and #export. Writes are
# visible at once and durable, compaction keeps every item and answer, one writer per
# directory, and a reader in another process follows the writer.
class LiveTest < Minitest::Test
  DIM = 8
  EVERYTHING = 10**9 # a search_k that covers every item: exact answers

  def setup
    @dir = Dir.mktmpdir('ann-ruby-live')
    @live = File.join(@dir, 'live')
    @data = Support.dataset(:euclidean, 300, DIM, seed: 11)
  end

  def teardown
    FileUtils.remove_entry(@dir)
  end

  def open_writer(**options, &block)
    Ann::Writer.open(@live, DIM, :euclidean, n_trees: 5, **options, &block)
  end

  def f32(vector)
    vector.map { |x| Support.f32(x) }
  end

  # The keys of the `n` items of `items` (key => vector) nearest to `query`, exactly.
  def nearest(items, query, n)
    items.keys.sort_by { |key| [Support.distance(:euclidean, f32(items[key]), f32(query)), key] }.first(n)
  end

  def test_writes_are_visible_at_once_and_deleted_keys_never_come_back
    open_writer do |writer|
      index = writer.index
      assert_equal [0, 0, DIM, :euclidean], [index.n_stored, index.n_items, index.dim, index.metric]
      assert_empty index.search(@data[0], 5)
      assert_same writer, writer.upsert(2**40, @data[0])
      assert_equal [2**40], index.get_nns_by_vector(@data[0], 5)
      assert_equal [2**40], index.search(@data[0], 5)
      assert_equal f32(@data[0]), index.get_item_vector(2**40)
      items = {}
      (1..30).each do |key|
        writer.upsert(key, @data[key])
        items[key] = @data[key]
        assert_equal key, index.search(@data[key], 1, search_k: EVERYTHING).first # the newest write, at once
      end
      assert_equal 31, index.n_stored
      assert writer.delete(2**40)
      refute writer.delete(2**40) # no longer there
      refute writer.delete(12_345) # never there: no error
      [5, 6, 7].each { |key| assert writer.delete(key) }
      items.delete(5)
      items.delete(6)
      items.delete(7)
      assert_equal 27, index.n_stored
      [@data[0], @data[5], @data[6], @data[7]].each do |query|
        found = index.search(query, 40, search_k: EVERYTHING)
        assert_equal 27, found.size # exactly min(n, live items)
        assert_empty found & [2**40, 5, 6, 7]
        assert_empty index.get_nns_by_vector(query, 40, search_k: EVERYTHING) & [2**40, 5, 6, 7]
        assert_equal nearest(items, query, 10), index.search(query, 10, search_k: EVERYTHING)
      end
      assert_raises(Ann::ArgumentError) { index.get_item_vector(5) }
      assert_equal [3, 4], index.search(@data[3], 2, search_k: EVERYTHING, allow: [3, 4, 5, 2**40])
      assert_equal [4], index.search(@data[3], 2, search_k: EVERYTHING) { |key| key == 4 || key == 5 }
      index.close
    end
  end

  def test_upsert_replaces_and_batches_count_what_was_there
    open_writer do |writer|
      index = writer.index
      writer.upsert(7, @data[0])
      writer.upsert(7, @data[1])
      assert_equal 1, index.n_stored
      assert_equal f32(@data[1]), index.get_item_vector(7)
      keys = [3, 2**63, (2**64) - 2, 9]
      assert_same writer, writer.upsert_batch(keys, @data.first(4))
      assert_equal 5, index.n_stored
      keys.each_with_index { |key, i| assert_equal f32(@data[i]), index.get_item_vector(key) }
      writer.upsert_batch([9, 7], [@data[20], @data[21]]) # replaces both
      assert_equal [5, f32(@data[20]), f32(@data[21])], [index.n_stored, index.get_item_vector(9),
                                                         index.get_item_vector(7)]
      assert_equal 0, writer.upsert_batch([], []).delete_batch([])
      assert_equal 2, writer.delete_batch([3, 2**63, 4, 3, 11]) # 4 and 11 were never there; 3 counts once
      assert_equal [(2**64) - 2, 7, 9].sort, index.search(@data[0], 10).sort
      assert_equal 0, writer.delete_batch([3])
      index.close
    end
  end

  def test_acknowledged_writes_survive_close_reopen_and_a_killed_process
    open_writer do |writer|
      writer.upsert_batch((0...50).to_a, @data.first(50))
      writer.delete(10)
    end
    open_writer do |writer|
      writer.index do |index|
        assert_equal 49, index.n_stored
        assert_equal f32(@data[49]), index.get_item_vector(49)
        assert_raises(Ann::ArgumentError) { index.get_item_vector(10) }
      end
    end
    # A process that writes in each mode and is killed (SIGKILL: no finalizer, no close).
    { sync: 50...60, timer: 60...70 }.each do |mode, keys|
      script = <<~RUBY
        require 'ann'
        writer = Ann::Writer.new(ARGV[0], #{DIM}, :euclidean, durability: :#{mode}, flush_ms: 60_000)
        #{keys.to_a}.each { |key| writer.upsert(key, Array.new(#{DIM}) { |i| key + i }) }
        writer.delete(0)
        Process.kill(:KILL, Process.pid)
      RUBY
      _, err, status = Open3.capture3(RbConfig.ruby, '-w', '-I', File.expand_path('../lib', __dir__), '-e', script,
                                      @live)
      assert_equal ['', 'KILL'], [err, Signal.signame(status.termsig)]
    end
    Ann::Index.open(@live) do |reader|
      assert_equal 48 + 20, reader.n_stored
      assert_equal Array.new(DIM) { |i| 69.0 + i }, reader.get_item_vector(69)
      assert_raises(Ann::ArgumentError) { reader.get_item_vector(0) }
    end
  end

  def test_timer_durability_and_sync
    Ann::Writer.open(@live, DIM, 'euclidean', durability: 'timer', flush_ms: 20) do |writer|
      assert_equal [:timer, 20, 50], [writer.durability, writer.flush_ms, writer.n_trees]
      writer.upsert_batch((0...40).to_a, @data.first(40))
      writer.delete(0)
      assert_same writer, writer.sync
      Ann::Index.open(@live) { |reader| assert_equal 39, reader.n_stored }
      writer.upsert(40, @data[40]) # synced by the timer, or at close
    end
    open_writer(durability: :sync) do |writer|
      assert_equal :sync, writer.durability
      writer.index { |index| assert_equal [40, f32(@data[40])], [index.n_stored, index.get_item_vector(40)] }
    end
  end

  def test_compaction_keeps_every_item_and_the_answers
    items = (0...300).to_h { |key| [key * 3, @data[key]] }
    queries = Support.dataset(:euclidean, 5, DIM, seed: 12) + @data.first(2)
    open_writer do |writer|
      index = writer.index
      writer.upsert_batch(items.keys.first(200), items.values.first(200))
      writer.compact(n_threads: 1) # a segment, then a delta over it
      items.keys.drop(200).each { |key| writer.upsert(key, items[key]) }
      deleted = items.keys.select { |key| (key % 7).zero? }
      assert_equal deleted.size, writer.delete_batch(deleted)
      deleted.each { |key| items.delete(key) }
      items[3] = @data[299].map(&:-@) # replaced
      writer.upsert(3, items[3])
      answers = -> { queries.map { |query| index.search(query, 10, search_k: EVERYTHING, include_distances: true) } }
      before = answers.call
      queries.zip(before) { |query, (keys, _)| assert_equal nearest(items, query, 10), keys }
      assert_same writer, writer.compact(n_threads: 2)
      assert_equal items.size, index.n_stored
      assert_equal 5, index.n_trees # one compacted segment, no delta
      assert_equal before, answers.call
      items.each_key { |key| assert_equal f32(items[key]), index.get_item_vector(key) }
      deleted.each { |key| assert_raises(Ann::ArgumentError) { index.get_item_vector(key) } }
      exported = File.join(@dir, 'export.ann')
      assert_same index, index.export(exported)
      index.close
      Ann::Index.open(exported) do |file|
        refute file.refresh # a file never changes
        assert_equal [items.size, 5], [file.n_stored, file.n_trees]
        assert_equal before.first, file.search(queries.first, 10, search_k: EVERYTHING, include_distances: true)
      end
    end
  end

  def test_graph_makes_compaction_and_export_build_a_graph
    data = Support.dataset(:euclidean, 600, DIM, seed: 13)
    exported = File.join(@dir, 'graph.ann')
    open_writer(n_trees: 2, graph: true) do |writer|
      assert_equal [true, 2], [writer.graph, writer.n_trees]
      writer.upsert_batch((0...600).to_a, data)
      writer.index do |index|
        refute index.graph? # the log's items, not yet compacted
        writer.compact(n_threads: 2)
        assert index.graph?
        [0, 123, 599].each { |key| assert_equal key, index.search(data[key], 1).first }
        index.export(exported)
      end
    end
    Ann::Index.open(exported) do |file|
      assert file.graph?
      assert_equal [600, 2], [file.n_stored, file.n_trees]
      assert_equal [42], file.search(data[42], 1)
    end
    FileUtils.remove_entry(@live)
    open_writer(graph: 8) do |writer|
      assert_equal 8, writer.graph
      writer.upsert_batch((0...50).to_a, data.first(50))
      writer.compact(n_threads: 1)
      writer.index { |index| assert index.graph? }
    end
  end

  def test_without_graph_compaction_builds_none
    open_writer do |writer|
      refute writer.graph
      writer.upsert_batch((0...300).to_a, @data)
      writer.compact(n_threads: 1)
      writer.index { |index| refute index.graph? }
    end
  end

  def test_a_bad_graph_setting_is_an_argument_error
    error = assert_raises(Ann::ArgumentError) { open_writer(graph: 257) }
    assert_equal :invalid_argument, error.status # libann's check: at most 256
    { 0 => /degree from 1 to 256, got 0/, -1 => /got -1/, 2**32 => /got 4294967296/,
      16.0 => /Integer degree, not Float/, nil => /not NilClass/, 'yes' => /not String/ }.each do |value, message|
      error = assert_raises(Ann::ArgumentError) { open_writer(graph: value) }
      assert_match message, error.message
    end
    refute File.exist?(@live)
  end

  def test_one_writer_per_directory
    writer = open_writer
    error = assert_raises(Ann::StateError) { open_writer }
    assert_equal :invalid_state, error.status
    assert_match(/already open for writing/, error.message)
    index = writer.index
    writer.upsert(1, @data[1])
    writer.close
    assert writer.closed?
    writer.close # twice is fine
    %i[sync index].each { |call| assert_raises(Ann::ClosedError) { writer.public_send(call) } }
    assert_raises(Ann::ClosedError) { writer.upsert(2, @data[2]) }
    assert_raises(Ann::ClosedError) { writer.delete(1) }
    assert_raises(Ann::ClosedError) { writer.delete_batch([1]) }
    assert_raises(Ann::ClosedError) { writer.compact }
    assert_match(/closed/, writer.inspect)
    assert_equal [1], index.search(@data[1], 3) # the read handle outlives its writer
    assert_equal :done, open_writer { |again| again.upsert(2, @data[2]) && :done } # the lock was released
    refute index.refresh # it stopped changing with its writer
    assert_equal 1, index.n_stored
    index.close
  end

  def test_bad_input_is_the_bindings_errors
    open_writer do |writer|
      writer.upsert(1, @data[1])
      {
        /NaN/ => -> { writer.upsert(2, [Float::NAN] * DIM) },
        /inf/ => -> { writer.upsert_batch([2, 3], [@data[2], [Float::INFINITY] * DIM]) },
        /reserved/ => -> { writer.upsert((2**64) - 1, @data[2]) },
        /is reserved/ => -> { writer.delete((2**64) - 1) },
        /keys holds 18446744073709551615/ => -> { writer.delete_batch([1, (2**64) - 1]) }, # refused whole
        /not a key/ => -> { writer.delete_batch([2, -1]) },
        /vector has 3 values, but the index needs 8/ => -> { writer.upsert(2, [1, 2, 3]) },
        /vectors\[1\] has 7 values/ => -> { writer.upsert_batch([2, 3], [@data[2], @data[3].first(7)]) },
        /2 keys but 1 vectors/ => -> { writer.upsert_batch([2, 3], [@data[2]]) },
        /Integer/ => -> { writer.delete('1') },
        /n_threads/ => -> { writer.compact(n_threads: 2**40) }
      }.each do |message, call|
        error = assert_raises(Ann::ArgumentError, &call)
        assert_match message, error.message
      end
      writer.index do |index|
        assert_equal 1, index.n_stored # nothing of the refused writes went in
        assert_raises(Ann::StateError) { index.add_item(5, @data[5]) }
        assert_raises(Ann::StateError) { index.build(2) }
        assert_raises(Ann::StateError) { index.save(File.join(@dir, 'no.ann')) }
      end
    end
    error = assert_raises(Ann::ArgumentError) { Ann::Writer.open(@live, DIM + 1, :euclidean) }
    assert_equal :invalid_argument, error.status
    assert_match(/dim #{DIM}/, error.message)
    assert_raises(Ann::ArgumentError) { Ann::Writer.open(@live, DIM, :angular) }
    other = File.join(@dir, 'other')
    { durability: :x, flush_ms: 0, n_trees: 0 }.each do |name, value|
      error = assert_raises(Ann::ArgumentError) { Ann::Writer.new(other, 2, :dot, name => value) }
      assert_match(/#{name}/, error.message)
    end
    assert_raises(Ann::ArgumentError) { Ann::Writer.new(other, 2, :nope) }
    assert_raises(Ann::ArgumentError) { Ann::Writer.new(5, 2, :dot) }
    refute File.exist?(other)
    assert_raises(Ann::IOError) { Ann::Index.open(@dir) } # a directory with no MANIFEST
    assert_raises(Ann::IOError) { Ann::Index.open(File.join(@dir, 'missing')) }
  end

  def test_threads_write_and_read_at_once
    open_writer(durability: :sync) do |writer|
      index = writer.index
      reading = Thread.new do
        Array.new(50) { index.search(@data[0], 5).size }
      end
      writers = Array.new(4) do |t|
        Thread.new { (0...25).each { |i| writer.upsert((t * 25) + i, @data[(t * 25) + i]) } }
      end
      writers.each(&:join)
      assert(reading.value.all? { |size| size <= 5 })
      assert_equal 100, index.n_stored
      assert_equal (0...100).to_a, index.search(@data[0], 200).sort
      index.close
    end
  end

  def test_a_reader_in_another_process_follows_the_writer
    writer = open_writer
    writer.upsert_batch((0...50).to_a, @data.first(50))
    writer.delete(3)
    query = Array.new(DIM, 0.5)
    own = writer.index
    exact = -> { own.search(query, 10, search_k: EVERYTHING) }
    Open3.popen3(RbConfig.ruby, '-w', File.join(__dir__, 'live_reader.rb'), @live) do |stdin, stdout, stderr, thread|
      ask = lambda do |command|
        stdin.puts(command)
        JSON.parse(stdout.gets || flunk("the reader died: #{stderr.read}"))
      end
      assert_equal 49, JSON.parse(stdout.gets || flunk(stderr.read)) # every acknowledged write, at open
      assert_equal exact.call, ask.call('search 10')
      assert_equal 'missing', ask.call('vector 3')
      assert_equal 'Ann::StateError', ask.call('writer') # one writer, in any process
      refute ask.call('refresh')

      writer.upsert(100, query).delete(0)
      writer.upsert(1, @data[99])
      assert ask.call('refresh')
      refute ask.call('refresh')
      assert_equal [49, [100]], [ask.call('stored'), ask.call('search 1')]
      assert_equal ['missing', f32(@data[99])], [ask.call('vector 0'), ask.call('vector 1')]
      assert_equal exact.call, ask.call('search 10')

      writer.compact(n_threads: 1)
      writer.upsert(101, query.map { |x| x + 0.01 })
      assert ask.call('refresh') # the new segment and the write after it
      assert_equal [50, exact.call], [ask.call('stored'), ask.call('search 10')]
      assert_equal [100, 101], ask.call('search 2')

      writer.close
      assert_equal 'opened', ask.call('writer') # the lock went with the writer
      stdin.puts('quit')
      stdin.close
      assert_equal '', stderr.read
      assert thread.value.success?
    end
  ensure
    own&.close
    writer&.close
  end

  def test_open_takes_a_file_and_a_block
    path = File.join(@dir, 'plain.ann')
    Support.build(:euclidean, @data.first(20)).save(path).close
    kept = nil
    found = Ann::Index.open(Pathname(path), prefault: true) do |index|
      kept = index
      refute index.refresh
      index.get_nns_by_item(4, 1)
    end
    assert_equal [4], found
    assert kept.closed?
    assert_raises(Ann::ClosedError) { kept.refresh }
    assert_raises(Ann::ClosedError) { kept.export(File.join(@dir, 'x.ann')) }
  end
end
