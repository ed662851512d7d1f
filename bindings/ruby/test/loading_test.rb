# frozen_string_literal: true

require_relative 'test_helper'
require 'fileutils'
require 'open3'
require 'rbconfig'

# Finding and checking libann (bindings/README.md, "Finding the library"), in child processes,
# since a process loads the library once.
class LoadingTest < Minitest::Test
  LIB = File.expand_path('../lib', __dir__)
  REPO = File.expand_path('../../..', __dir__)

  # Runs `code` after `require 'ann'` in a child Ruby with `env`; returns [stdout, stderr, status].
  def ruby(env, code = 'puts Ann.library_path')
    Open3.capture3(env, RbConfig.ruby, '-I', LIB, '-e', "require 'ann'; #{code}")
  end

  def test_ann_lib_wins
    out, err, status = ruby({ 'ANN_LIB' => Ann.library_path })
    assert status.success?, err
    assert_equal Ann.library_path, out.chomp
  end

  def test_a_missing_ann_lib_is_an_error_not_a_fall_through
    _, err, status = ruby({ 'ANN_LIB' => '/nonexistent/libann.so' })
    refute status.success?
    assert_match(/Ann::LoadError/, err)
    assert_match(%r{cannot load /nonexistent/libann\.so}, err)
    %w[ANN_LIB cargo\ build\ --release cmake\ -P\ cmake/install.cmake].each { |hint| assert_includes err, hint }
  end

  def test_a_library_without_the_abi_function_is_refused
    libc = Dir['/lib/x86_64-linux-gnu/libm.so.6', '/usr/lib/libm.so.6', '/lib64/libm.so.6'].first
    skip 'no libm found to stand in for a foreign library' unless libc
    _, err, status = ruby({ 'ANN_LIB' => libc })
    refute status.success?
    assert_match(/has no function ann_abi_version: it is not libann/, err)
  end

  def test_another_abi_is_refused_with_both_versions
    Support.tmpdir do |dir|
      source = File.join(dir, 'fake.c')
      File.write(source, "unsigned int ann_abi_version(void) { return 99; }\n")
      fake = File.join(dir, 'libann.so')
      _, err, status = Open3.capture3('cc', '-shared', '-fPIC', '-o', fake, source)
      skip "no C compiler: #{err}" unless status.success?
      _, err, status = ruby({ 'ANN_LIB' => fake })
      refute status.success?
      assert_match(/has ABI version 99, but this gem \(ann [\d.]+\) needs ABI 1/, err)
    end
  end

  def test_cargo_target_dir_is_honoured_in_a_checkout
    Support.tmpdir do |dir|
      FileUtils.mkdir_p(File.join(dir, 'debug'))
      FileUtils.ln_s(Ann.library_path, File.join(dir, 'debug', 'libann.so'))
      out, err, status = ruby({ 'ANN_LIB' => nil, 'CARGO_TARGET_DIR' => dir })
      assert status.success?, err
      assert_equal File.join(dir, 'debug', 'libann.so'), out.chomp
    end
  end

  def test_the_checkout_target_is_the_default
    built = Ann::Locate.built_libraries(REPO, {}).first
    skip 'no cargo build in this checkout' unless built
    out, err, status = ruby({ 'ANN_LIB' => nil, 'CARGO_TARGET_DIR' => nil })
    assert status.success?, err
    assert_equal built, out.chomp
  end

  def test_candidate_order
    assert_equal [['/x/libann.so', true]], Ann::Locate.candidates({ 'ANN_LIB' => '/x/libann.so' })
    Support.tmpdir do |dir|
      outside = File.join(dir, 'gem', 'lib', 'ann') # an installed gem: no checkout around it
      assert_nil Ann::Locate.source_checkout(outside)
      assert_equal [Ann::Locate::SONAME, false], Ann::Locate.candidates({}, outside).first
      assert_equal REPO, Ann::Locate.source_checkout(File.join(LIB, 'ann'))
      assert_equal [File.join(dir, 'custom'), File.join(REPO, 'target')],
                   Ann::Locate.target_dirs(REPO, { 'CARGO_TARGET_DIR' => File.join(dir, 'custom') })
      assert_equal [File.join(REPO, 'rel'), File.join(REPO, 'target')],
                   Ann::Locate.target_dirs(REPO, { 'CARGO_TARGET_DIR' => 'rel' })
    end
  end
end
