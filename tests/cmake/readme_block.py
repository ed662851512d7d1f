"""Prints the fenced code block of one language from one section of README.md.

    python3 readme_block.py <README.md> "<section heading>" <language> [<index>]

The section is the text from the heading line to the next heading of the same or a higher
level; <index> picks the block when the section has several of that language (default 0).
Fails, naming what is missing, when the section or the block does not exist, so a renamed
heading breaks the test instead of silently testing nothing.
"""

import re
import sys


def section(text: str, heading: str) -> str:
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", text, flags=re.M)
    if match is None:
        sys.exit(f"README has no section '{heading}'")
    level = len(match.group(1))
    end = re.search(rf"^#{{1,{level}}} ", text[match.end():], flags=re.M)
    return text[match.end():match.end() + end.start()] if end else text[match.end():]


def main() -> None:
    path, heading, language = sys.argv[1:4]
    index = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    blocks = re.findall(rf"^```{re.escape(language)}\n(.*?)^```", section(open(path).read(), heading),
                        flags=re.M | re.S)
    if index >= len(blocks):
        sys.exit(f"README section '{heading}' has {len(blocks)} '{language}' blocks, not {index + 1}")
    sys.stdout.write(blocks[index])


if __name__ == "__main__":
    main()
