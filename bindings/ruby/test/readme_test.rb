# frozen_string_literal: true

require_relative 'test_helper'
require 'open3'
require 'rbconfig'

# The README's examples are the files in examples/, word for word, and they run.
class ReadmeTest < Minitest::Test
  ROOT = File.expand_path('..', __dir__)
  QUICKSTART = File.join(ROOT, 'examples', 'quickstart.rb')
  KEYS_FILTERS_SHARDS = File.join(ROOT, 'examples', 'keys_filters_shards.rb')
  LIVE_INDEX = File.join(ROOT, 'examples', 'live_index.rb')

  def ruby_blocks
    File.read(File.join(ROOT, 'README.md')).scan(/```ruby\n(.*?)```/m).flatten
  end

  # The lines `example` prints, run with -w in a fresh process; fails on any warning.
  def output_of(example)
    Support.tmpdir do |dir|
      out, err, status = Open3.capture3({ 'TMPDIR' => dir }, RbConfig.ruby, '-w', '-I', File.join(ROOT, 'lib'),
                                        example)
      assert status.success?, err
      assert_equal '', err
      out.lines(chomp: true)
    end
  end

  def test_the_readme_examples_are_the_example_files
    assert_includes ruby_blocks, File.read(QUICKSTART)
    assert_includes ruby_blocks, File.read(KEYS_FILTERS_SHARDS)
    assert_includes ruby_blocks, File.read(LIVE_INDEX)
  end

  def test_the_quickstart_runs
    assert_equal ['id 0 at distance 0.1106', 'id 2 at distance 0.6620', '[2, 0]'], output_of(QUICKSTART)
  end

  def test_the_keys_filters_and_shards_example_prints_what_the_readme_says
    lines = output_of(KEYS_FILTERS_SHARDS)
    assert_equal ['4 items, largest key 9223372036854775813', '[7, 12345]', '[7, 12345]',
                  '[[7], [9223372036854775813]]'], lines
    said = File.read(File.join(ROOT, 'README.md'))[/It prints (.*?)\.\n\n/m, 1].tr("\n", ' ')
    assert_equal "`#{lines[0]}`, `#{lines[1]}` twice, and `#{lines[3]}`", said
  end

  def test_the_live_index_example_prints_what_the_readme_says
    lines = output_of(LIVE_INDEX)
    assert_equal ['[1, 3]', 'true', '[4, 3]', 'true', '[5, 4]'], lines
    said = File.read(File.join(ROOT, 'README.md'))[/`examples\/live_index\.rb`.*?It prints (.*?)\.\n\n/m, 1]
    quoted = lines.map { |line| "`#{line}`" }
    assert_equal "#{quoted[0...-1].join(', ')} and #{quoted[-1]}", said.tr("\n", ' ')
  end

  def test_the_migration_snippet_runs
    snippet = ruby_blocks.find { |block| block.include?('Ann::AnnoyIndex.new') }
    index = eval(snippet, binding, 'README.md') # rubocop:disable Security/Eval
    assert_equal [40, 'angular'], [index.n_features, index.metric]
    index.close
  end
end
