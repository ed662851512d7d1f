# frozen_string_literal: true

module Ann
  # Where libann can be, in the order of bindings/README.md. Pure path logic, no loading, so
  # that tests can check the order without loading anything.
  module Locate
    # The library's file name as cargo builds it.
    LIBRARY_NAME = 'libann.so'
    # The installed library's name (its SONAME), found through the system's loader.
    SONAME = 'libann.so.1'
    # Where `cmake -P cmake/install.cmake` puts the library by default.
    INSTALLED = '/usr/local/lib/libann.so.1'
    # What to tell a user whose library is missing or stale.
    HOW_TO_FIX = 'set ANN_LIB to the path of libann.so, or run `cargo build --release` in the ann ' \
                 'repository, or install the library with `cmake -P cmake/install.cmake`'

    module_function

    # The repository holding this gem (<repo>/bindings/ruby/lib/ann), when it runs from a
    # source checkout; nil for an installed gem.
    def source_checkout(dir = __dir__)
      root = File.expand_path('../../../..', dir)
      File.file?(File.join(root, 'Cargo.toml')) && File.file?(File.join(root, 'include', 'ann.h')) ? root : nil
    end

    # Cargo target directories: CARGO_TARGET_DIR (relative to the repository, as cargo reads
    # it there) wins over <repo>/target, because cargo puts the library there when it is set.
    def target_dirs(repo, env = ENV)
      dirs = []
      custom = env['CARGO_TARGET_DIR']
      dirs << File.expand_path(custom, repo || Dir.pwd) unless custom.to_s.empty?
      dirs << File.join(repo, 'target') if repo
      dirs.uniq
    end

    # Existing cargo-built libraries, each target directory's release before its debug one.
    def built_libraries(repo, env = ENV)
      target_dirs(repo, env).product(%w[release debug]).map { |dir, profile| File.join(dir, profile, LIBRARY_NAME) }
                            .select { |path| File.file?(path) }
    end

    # The candidates to try, as [path, required] pairs. A required candidate must load: a
    # failure is an error, never a fall-through to another copy. Only the system loader's
    # name may be absent, which dlopen reports as a failure to load.
    def candidates(env = ENV, dir = __dir__)
      explicit = env['ANN_LIB']
      return [[explicit, true]] unless explicit.to_s.empty?

      built = built_libraries(source_checkout(dir), env).first
      return [[built, true]] if built

      [[SONAME, false]] + (File.file?(INSTALLED) ? [[INSTALLED, true]] : [])
    end
  end
end
