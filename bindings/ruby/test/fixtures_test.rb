# frozen_string_literal: true

require_relative 'test_helper'

# Files written by Annoy 1.17.3 (tests/fixtures/annoy, see make_fixtures.py) read through
# load_annoy give Annoy's own answers, recorded in each case's .expected file.
class FixturesTest < Minitest::Test
  CASES = Dir[File.join(Support::FIXTURES, '*.expected')].map { |path| File.basename(path, '.expected') }.sort

  # The .expected file: its header fields, and its records split at " | ".
  def expected(name)
    lines = File.readlines(File.join(Support::FIXTURES, "#{name}.expected"), chomp: true)
    header = lines.first(4).to_h { |line| line.split }
    [header, lines.drop(4).map { |line| line.split(' | ').map(&:split) }]
  end

  # Annoy's tolerance (as tests/annoy_files.rs): 1e-5 relative; angular near 0 compared as
  # 2 - 2cos, since sqrt there amplifies one float32 ulp of cos.
  def close?(metric, a, b)
    (a - b).abs <= 1e-5 * [a.abs, b.abs, 1e-30].max || (metric == 'angular' && (a * a - b * b).abs <= 8 * 1.2e-7)
  end

  # Our results equal Annoy's, except where distances tie within rounding.
  def assert_same_results(metric, what, found, ids, distances)
    ours, our_distances = found
    assert_equal ids.size, ours.size, what
    ours.zip(our_distances).each_with_index do |(id, distance), i|
      assert close?(metric, distance, distances[i]), "#{what}: distance #{i}: #{distance} vs #{distances[i]}"
      next if id == ids[i]

      tied = ids.zip(distances).any? { |other, d| other == id && close?(metric, d, distance) } ||
             close?(metric, distances.last, distance)
      assert tied, "#{what}: ids #{ours} vs Annoy #{ids}"
    end
  end

  def check_record(index, metric, record)
    head, ids, distances = record
    case head.first
    when 'query'
      found = index.get_nns_by_vector(head.drop(3).map(&:to_f), head[2].to_i, search_k: head[1].to_i,
                                                                              include_distances: true)
      assert_same_results(metric, record.inspect[0, 80], found, ids.map(&:to_i), distances.map(&:to_f))
    when 'item'
      found = index.get_nns_by_item(head[1].to_i, head[3].to_i, search_k: head[2].to_i, include_distances: true)
      assert_same_results(metric, head.join(' '), found, ids.map(&:to_i), distances.map(&:to_f))
    when 'distance'
      assert close?(metric, index.get_distance(head[1].to_i, head[2].to_i), head[3].to_f), head.join(' ')
    when 'vector'
      assert_equal head.drop(2).map(&:to_f), index.get_item_vector(head[1].to_i), head.first(2).join(' ')
    end
  end

  def test_every_case_is_here
    assert_operator CASES.size, :>=, 8
  end

  CASES.each do |name|
    define_method(:"test_annoy_file_#{name}") do
      header, records = expected(name)
      metric = header.fetch('metric')
      Ann::Index.load_annoy(File.join(Support::FIXTURES, "#{name}.annoy"), header.fetch('dim').to_i, metric) do |index|
        assert_equal [header['n_items'].to_i, header['n_trees'].to_i], [index.n_items, index.n_trees]
        assert index.verify
        records.each { |record| check_record(index, metric, record) }
        assert_operator records.size, :>=, 40
      end
    end
  end

  def test_the_drop_in_loads_annoy_files_by_their_size
    header, records = expected('euclidean')
    annoy = Ann::AnnoyIndex.new(n_features: header['dim'].to_i, metric: 'euclidean', dtype: 'float32')
    assert annoy.load(File.join(Support::FIXTURES, 'euclidean.annoy'))
    head, ids, distances = records.find { |record| record.first.first == 'item' }
    found = annoy.get_nns_by_item(head[1].to_i, head[3].to_i, include_distances: true)
    assert_same_results('euclidean', 'drop-in', found, ids.map(&:to_i), distances.map(&:to_f))
    annoy.close
  end
end
