# frozen_string_literal: true

require_relative 'test_helper'
require 'open3'
require 'rbconfig'

# The README's quickstart is examples/quickstart.rb, word for word, and it runs.
class ReadmeTest < Minitest::Test
  ROOT = File.expand_path('..', __dir__)
  QUICKSTART = File.join(ROOT, 'examples', 'quickstart.rb')

  def ruby_blocks
    File.read(File.join(ROOT, 'README.md')).scan(/```ruby\n(.*?)```/m).flatten
  end

  def test_the_readme_quickstart_is_the_example_file
    assert_includes ruby_blocks, File.read(QUICKSTART)
  end

  def test_the_quickstart_runs
    Support.tmpdir do |dir|
      out, err, status = Open3.capture3({ 'TMPDIR' => dir }, RbConfig.ruby, '-w', '-I', File.join(ROOT, 'lib'),
                                        QUICKSTART)
      assert status.success?, err
      assert_equal '', err
      assert_equal ['id 0 at distance 0.1106', 'id 2 at distance 0.6620', '[2, 0]'], out.lines(chomp: true)
    end
  end

  def test_the_migration_snippet_runs
    snippet = ruby_blocks.find { |block| block.include?('Ann::AnnoyIndex.new') }
    index = eval(snippet, binding, 'README.md') # rubocop:disable Security/Eval
    assert_equal [40, 'angular'], [index.n_features, index.metric]
    index.close
  end
end
