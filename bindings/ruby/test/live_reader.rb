# frozen_string_literal: true

# The reader process of live_test.rb: opens the live index directory ARGV[0] read-only with
# the gem from this tree, then answers one command a line on standard input, one line of
# JSON each on standard output:
#
#   refresh          => true or false (whether anything changed)
#   stored           => the number of items
#   search <n>       => the keys of an exhaustive search from the query below, nearest first
#   vector <key>     => the key's vector, or "missing" for a key not there
#   writer           => the class of the error a second writer raises here, or "opened"
#   quit             => ends
#
# The query is [0.5] * dim; the search covers every item (search_k = 10**9).

$LOAD_PATH.unshift(File.expand_path('../lib', __dir__))
require 'ann'
require 'json'

dir = ARGV.fetch(0)
reader = Ann::Index.open(dir)
query = Array.new(reader.dim, 0.5)
$stdout.sync = true
puts JSON.generate(reader.n_stored)

$stdin.each_line do |line|
  command, argument = line.split
  answer =
    case command
    when 'refresh' then reader.refresh
    when 'stored' then reader.n_stored
    when 'search' then reader.search(query, Integer(argument), search_k: 10**9)
    when 'vector'
      begin
        reader.get_item_vector(Integer(argument))
      rescue Ann::ArgumentError
        'missing'
      end
    when 'writer'
      begin
        Ann::Writer.open(dir, reader.dim, reader.metric, &:dim)
        'opened'
      rescue Ann::Error => e
        e.class.name
      end
    when 'quit' then break
    else "unknown command #{command.inspect}"
    end
  puts JSON.generate(answer)
end
reader.close
