# frozen_string_literal: true

# The style checks test.sh runs, a subset of RuboCop's defaults that needs no gem: RuboCop is
# not installable offline here. Syntax and warnings are checked separately with `ruby -wc`.
#
#   ruby script/lint.rb FILE...

MAX_LINE = 120 # RuboCop's Layout/LineLength

# Problems in one file, as "path:line: message" strings.
def problems(path)
  text = File.read(path)
  found = []
  found << "#{path}:1: missing `# frozen_string_literal: true`" if needs_magic_comment?(path, text)
  found << "#{path}: must end with exactly one newline" unless text.end_with?("\n") && !text.end_with?("\n\n")
  text.each_line.with_index(1) do |line, number|
    line = line.chomp
    found << "#{path}:#{number}: line is #{line.size} characters (max #{MAX_LINE})" if line.size > MAX_LINE
    found << "#{path}:#{number}: trailing whitespace" if line.match?(/\s\z/)
    found << "#{path}:#{number}: tab character" if line.include?("\t")
    found << "#{path}:#{number}: prefer single quotes" if plain_double_quoted?(line)
  end
  found
end

# Examples are shown in README.md, where the magic comment would only be noise.
def needs_magic_comment?(path, text)
  !path.include?('examples/') && !text.lines.first(3).any? { |l| l.start_with?('# frozen_string_literal: true') }
end

# A double-quoted literal without interpolation or escapes (Style/StringLiterals), outside
# comments and regexp literals. A literal continued with a backslash is one string with the
# next line's, which may interpolate.
def plain_double_quoted?(line)
  return false if line.end_with?('\\')

  code = line.sub(/\A\s*#.*/, '').gsub(%r{(?<=[(,=] |[(,])/(?:[^/\\]|\\.)*/}, '//')
  code.scan(/"((?:[^"\\]|\\.)*)"/).any? { |(body)| !body.match?(/[#\\']/) }
end

all = ARGV.flat_map { |path| problems(path) }
puts all
puts "lint: #{ARGV.size} files, #{all.size} problems"
exit(all.empty? ? 0 : 1)
