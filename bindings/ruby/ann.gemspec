# frozen_string_literal: true

require_relative 'lib/ann/version'

Gem::Specification.new do |spec|
  spec.name = 'ann'
  spec.version = Ann::VERSION
  spec.summary = 'Approximate nearest-neighbour search over memory-mapped, Annoy-compatible index files'
  spec.description = 'Ruby binding of libann (FFI): build, save, memory-map and query forests of random ' \
                     'projection trees, read Annoy files, and switch from annoy-rb with one line.'
  spec.authors = ['The ann authors']
  spec.license = 'Apache-2.0'
  spec.required_ruby_version = '>= 3.0'
  spec.files = Dir['lib/**/*.rb'] + %w[README.md ann.gemspec]
  spec.require_paths = ['lib']
  spec.add_dependency 'ffi', '~> 1.15'
  spec.metadata['rubygems_mfa_required'] = 'true'
end
