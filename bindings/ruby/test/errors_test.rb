# frozen_string_literal: true

require_relative 'test_helper'

# Every error class, provoked the way users meet it, with its status and a useful message.
class ErrorsTest < Minitest::Test
  def setup
    @index = Ann::Index.new(3, :euclidean)
    @index.add_item(0, [1, 2, 3]).add_item(2, [3, 2, 1])
  end

  def teardown
    @index.close
  end

  def assert_error(klass, status, message, &block)
    error = assert_raises(klass, &block)
    assert_equal klass, error.class
    assert_equal status, error.status
    assert_equal Ann::Error::STATUSES.fetch(status), error.code
    assert_match message, error.message
    error
  end

  def test_hierarchy
    assert_operator Ann::Error, :<, RuntimeError
    assert_operator Ann::ClosedError, :<, Ann::StateError
    assert_operator Ann::CorruptFileError, :<, Ann::IOError
    [Ann::ArgumentError, Ann::StateError, Ann::IOError, Ann::OutOfMemoryError, Ann::InternalError].each do |klass|
      assert_operator klass, :<, Ann::Error
    end
    assert_operator Ann::LoadError, :<, LoadError
  end

  def test_arguments_checked_in_ruby
    assert_error(Ann::ArgumentError, :invalid_argument, /vector has 2 values, but the index needs 3/) do
      @index.add_item(1, [1, 2])
    end
    assert_error(Ann::ArgumentError, :invalid_argument, /Numeric values, not String/) do
      @index.add_item(1, [1, '2', 3])
    end
    assert_error(Ann::ArgumentError, :invalid_argument, /must be an Array, not Integer/) { @index.add_item(1, 5) }
    assert_error(Ann::ArgumentError, :invalid_argument, /id must be in/) { @index.add_item(-1, [1, 2, 3]) }
    assert_error(Ann::ArgumentError, :invalid_argument, /id must be in/) { @index.add_item(2**64, [1, 2, 3]) }
    assert_error(Ann::ArgumentError, :invalid_argument, /reserved/) { @index.add_item((2**64) - 1, [1, 2, 3]) }
    assert_error(Ann::ArgumentError, :invalid_argument, /reserved/) { @index.get_item_vector((2**64) - 1) }
    assert_error(Ann::ArgumentError, :invalid_argument, /id must be an Integer, not Float/) do
      @index.add_item(1.5, [1, 2, 3])
    end
    assert_error(Ann::ArgumentError, :invalid_argument, /n_trees must be in/) { @index.build(2**31) }
    assert_error(Ann::ArgumentError, :invalid_argument, /NUL/) { @index.save("a\0b") }
    assert_error(Ann::ArgumentError, :invalid_argument, /metric must be a Symbol or String/) { Ann::Index.new(3, 1) }
    assert_error(Ann::ArgumentError, :invalid_argument, /dim must be in/) { Ann::Index.new(-3, :dot) }
  end

  def test_arguments_checked_by_libann
    assert_error(Ann::ArgumentError, :invalid_argument, /unknown metric "nope"/) { Ann::Index.new(3, :nope) }
    assert_error(Ann::ArgumentError, :invalid_argument, /ann_new/) { Ann::Index.new(0, :angular) }
    assert_error(Ann::ArgumentError, :invalid_argument, /NaN|finite/i) { @index.add_item(1, [1, Float::NAN, 3]) }
    assert_error(Ann::ArgumentError, :invalid_argument, /finite|infinite/i) { @index.add_item(1, [1e300, 0, 0]) }
    assert_error(Ann::ArgumentError, :invalid_argument, /n_trees/) { @index.build(0) }
    assert_error(Ann::ArgumentError, :invalid_argument, /n_threads/) { @index.build(1, n_threads: 0) }
    assert_error(Ann::ArgumentError, :invalid_argument, /hamming/) { @index.add_item_packed(1, [1]) }
    @index.build(2)
    assert_error(Ann::ArgumentError, :invalid_argument, /never added/) { @index.get_item_vector(1) }
    assert_error(Ann::ArgumentError, :invalid_argument, /never added/) { @index.get_nns_by_item(7, 1) }
    assert_error(Ann::ArgumentError, :invalid_argument, /never added/) { @index.get_nns_by_item(2**31, 1) }
    assert_error(Ann::ArgumentError, :invalid_argument, /search_k/) { @index.get_nns_by_item(0, 1, search_k: -2) }
  end

  def test_wrong_state
    assert_error(Ann::StateError, :invalid_state, /not built|build/) { @index.get_nns_by_item(0, 1) }
    assert_error(Ann::StateError, :invalid_state, /built/) { @index.save('never.ann') }
    @index.build(2)
    assert_error(Ann::StateError, :invalid_state, /unbuild/) { @index.add_item(3, [1, 1, 1]) }
    assert_error(Ann::StateError, :invalid_state, /built/) { @index.build(2) }
    Support.tmpdir do |dir|
      path = File.join(dir, 'x.ann')
      @index.save(path)
      Ann::Index.load(path) do |loaded|
        assert_error(Ann::StateError, :invalid_state, /loaded/) { loaded.unbuild }
        assert_error(Ann::StateError, :invalid_state, /loaded/) { loaded.add_item(5, [1, 2, 3]) }
      end
    end
  end

  def test_io_errors
    assert_error(Ann::IOError, :io, /missing\.ann/) { Ann::Index.load('/nonexistent/missing.ann') }
    assert_error(Ann::IOError, :io, /missing\.ann/) { Ann.file_info('/nonexistent/missing.ann') }
    @index.build(1)
    assert_error(Ann::IOError, :io, /out\.ann/) { @index.save('/nonexistent/dir/out.ann') }
  end

  def test_corrupt_files
    Support.tmpdir do |dir|
      garbage = File.join(dir, 'garbage.ann')
      File.binwrite(garbage, "\x89ANNIDX\n#{'x' * 600}")
      assert_error(Ann::CorruptFileError, :corrupt_file, /garbage\.ann|header|checksum/) { Ann::Index.load(garbage) }
      assert_error(Ann::CorruptFileError, :corrupt_file, /size|node|empty/) do
        Ann::Index.load_annoy(garbage, 7, :angular)
      end
    end
  end

  def test_verify_finds_a_damaged_body
    data = Support.dataset(:euclidean, 100, 3)
    Support.tmpdir do |dir|
      path = File.join(dir, 'damaged.ann')
      Support.build(:euclidean, data).save(path)
      bytes = File.binread(path)
      bytes.setbyte(600, bytes.getbyte(600) ^ 0xFF)
      File.binwrite(path, bytes)
      Ann::Index.load(path) do |loaded| # loading checks the header only: O(1)
        assert_error(Ann::CorruptFileError, :corrupt_file, /checksum/) { loaded.verify }
      end
    end
  end

  def test_use_after_close_raises_and_close_is_idempotent
    assert_nil @index.close
    assert_nil @index.close
    assert @index.closed?
    %i[n_items n_stored n_trees seed verify unbuild unload].each do |name|
      assert_error(Ann::ClosedError, :invalid_state, /closed/) { @index.public_send(name) }
    end
    assert_error(Ann::ClosedError, :invalid_state, /closed/) { @index.add_item(5, [1, 2, 3]) }
    assert_error(Ann::ClosedError, :invalid_state, /closed/) { @index.get_nns_by_vector([1, 2, 3], 1) }
    assert_error(Ann::ClosedError, :invalid_state, /closed/) { @index.get_nns_by_vectors([[1, 2, 3]], 1) }
    assert_error(Ann::ClosedError, :invalid_state, /closed/) { @index.search([1, 2, 3], 1, allow: [0]) }
    assert_error(Ann::ClosedError, :invalid_state, /closed/) { @index.search_batch([[1, 2, 3]], 1) { true } }
    assert_error(Ann::ClosedError, :invalid_state, /closed/) { @index.build(1) }
    assert_error(Ann::ClosedError, :invalid_state, /closed/) { @index.save('x.ann') }
  end

  def test_a_block_closes_the_loaded_index_even_on_error
    @index.build(1)
    Support.tmpdir do |dir|
      path = File.join(dir, 'x.ann')
      @index.save(path)
      kept = nil
      assert_raises(ZeroDivisionError) do
        Ann::Index.load(path) do |loaded|
          kept = loaded
          1 / 0
        end
      end
      assert kept.closed?
      assert_equal 3, Ann::Index.load(path, &:dim)
    end
  end
end
