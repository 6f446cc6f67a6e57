"""Clean-up rules against the garbage of the real-code benchmark (benchmarks/holes.py): answers
that break the line they complete. Each rule has cases where it must fire (adapted from the
holes where the model produced them) and cases of real code where it must not.

Documents are written with a ``█`` where the cursor is (helpers from test_cleanup).
"""

from __future__ import annotations

import pytest

from test_cleanup import clean_at

# ----------------------------------------------------------- indentation past the typed one

SOCKETS = """\
async def connect_tcp(remote_host, remote_port):
    if addr_obj is None:
        gai_res = await getaddrinfo(remote_host, remote_port)
        v6_found = v4_found = False
        target_addrs = []
        █
            if af == socket.AF_INET6 and not v6_found:
                v6_found = True
            else:
                target_addrs.append((af, sa[0]))

    oserrors: list[OSError] = []
"""


def test_a_block_indented_past_the_typed_indentation_moves_left() -> None:
    raw = (
        "    if af == socket.AF_INET and not v4_found:\n"
        "                v4_found = True\n"
        "            elif af == socket.AF_INET6:\n"
    )
    assert clean_at(SOCKETS, raw) == (
        "if af == socket.AF_INET and not v4_found:\n            v4_found = True"
    )


def test_a_line_indented_past_the_typed_indentation_moves_left() -> None:
    doc = "function run(options) {\n  const pool = createPool(options);\n  █\n}\n"
    assert clean_at(doc, "    pool.start();\n", "javascript") == "pool.start();"
    doc = "def run(options):\n    pool = create_pool(options)\n    █\n"
    assert clean_at(doc, "    pool.start()\n", "python") == "pool.start()"


def test_a_moved_block_ends_at_a_line_left_of_its_first_line() -> None:
    doc = "def run(options):\n    pool = create_pool(options)\n    █\n    return pool\n"
    # the answer reaches the code below, but one of its lines cannot move left
    assert clean_at(doc, "    pool.start()\nlog(pool)\n    return pool\n") == "pool.start()"
    raw = "    if pool:\n            pool.start()\n        log(pool)\n"
    assert clean_at(doc, raw) == "if pool:\n        pool.start()"


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        # after an opener the user left at its own depth, a deeper line is due
        ("def f(x):\n    if x:\n    █\n", "    return 1\n", "python"),
        ("function f(x) {\n  if (x) {\n  █\n", "  return 1;\n", "javascript"),
        # at column 0 the answer brings its own indentation
        ("def f(x):\n    y = x\n█\n    return y\n", "    y += 1\n", "python"),
    ],
)
def test_indentation_that_is_due_is_kept(doc: str, raw: str, language: str) -> None:
    assert clean_at(doc, raw, language) == raw.rstrip("\n")


# ----------------------------------------------------------- a closer where the block goes on

MOCHA = """\
class Runner {
  async run() {
    try {
      if (this._state === BAILING) {
        debug('run(): terminating pool due to "bail" flag');
        █
        await pool.terminate();
      }
    } catch (err) {
      throw err;
    }
  }
}
"""

SNIFFER = """\
class Sniffer {
    stateBeforeTagName(c) {
        if (isAsciiAlpha(c)) {
            if ((c | 0x20) === STRINGS.META[0]) {
                this.sectionIndex = 1;
                █
            }
            else {
                this.state = State.TagNameOther;
            }
        }
    }
}
"""

SERIALIZER = """\
function serializeSequenceType(serializer, mapper, object) {
    for (let i = 0; i < object.length; i++) {
        if (isXml && elementType.xmlNamespace) {
            if (elementType.type.name === "Composite") {
                tempArray[i] = { ...serializedValue };
            }
            else {
                tempArray[i] = {};
█
                tempArray[i][XML_ATTRKEY] = { [xmlnsKey]: elementType.xmlNamespace };
            }
        }
    }
}
"""

REQUEST = """\
def build(parts):
    return Request(
        method="GET",
█
        url=parts.url,
    )
"""


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        (MOCHA, "}\n", "javascript"),  # the body goes on below at the same depth
        (SNIFFER, "}\n", "javascript"),  # the code below closes that body itself
        (SERIALIZER, "            }\n", "javascript"),  # the code below is inside it
        (REQUEST, "    )\n", "python"),  # the arguments go on below
    ],
)
def test_a_closer_where_the_block_goes_on_is_not_suggested(
    doc: str, raw: str, language: str
) -> None:
    assert clean_at(doc, raw, language) == ""


CLOSE_ABOVE = """\
function f(a) {
    if (a) {
        b();
    █
    return a;
}
"""

UNFINISHED = """\
'use strict';

function f(a) {
    b();
    █

function g() {}
"""

ELSE = """\
\tcreate(context) {
\t\tif (exceptionsArrayOptions.length) {
\t\t\toptions.braceException = exceptionsArrayOptions.includes("{}");
█
\t\t\toptions.parenException = exceptionsArrayOptions.includes("()");
\t\t}
\t}
"""

BRACELESS = """\
function checkDependencies(rule, parentSchema) {
      var deps = rule.definition.dependencies;
      if (deps && !deps.every(function(keyword) {
        return Object.prototype.hasOwnProperty.call(parentSchema, keyword);
      █
        throw new Error('parent schema must have all required keywords');
}
"""

DECLARATORS = """\
var hasObjectTag = tagTester('Object');
var hasDataViewBug = (
      supportsDataView && hasObjectTag(new DataView(new ArrayBuffer(8)))
    █
    isIE11 = (typeof Map !== 'undefined' && hasObjectTag(new Map));
"""

PAGE = """\
import textwrap

PAGE = {
    "template": \"\"\"
        <script>
            function init() {
                start();
            █
            init();
        </script>
    \"\"\",
}
"""

# The engine's window starts inside the loop's line: that line's indentation is not known.
WINDOW_CUT = """\
ch !== 0) {
    if (state.lineIndent < nodeIndent) {
      break
    }
  █

  // Epilogue.
  return result
}
"""

SIGNATURE = """\
def build(
    parts,
    options,
█
    return Request(parts, options)
"""

PY_CALL = """\
def build(parts):
    request = Request(
        method="GET",
    █
    return request
"""


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        (CLOSE_ABOVE, "}", "javascript"),  # it closes the body above
        (UNFINISHED, "}", "javascript"),  # a body the file never closes
        (ELSE, "\t\t} else {", "javascript"),  # the code below may be its body
        (BRACELESS, "}))", "javascript"),  # an `if` condition before its braceless body
        (DECLARATORS, "),", "javascript"),  # the statement goes on below
        (PY_CALL, ")", "python"),  # closes the call above at its depth
        (SIGNATURE, "):", "python"),  # the code below is the body it opens
        (PAGE, "}", "python"),  # in a string: the brackets around it are no code's
        (WINDOW_CUT, "}", "javascript"),  # closes the loop the window's first line opens
    ],
)
def test_a_closer_that_fits_the_code_around_it_stays(doc: str, raw: str, language: str) -> None:
    assert clean_at(doc, raw, language) == raw


# ----------------------------------------------------------- an empty subscript


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        (
            "function f(node) {\n  const args = node.arguments;\n  const errorsArg = args[█\n}\n",
            "];\n",
            "javascript",
        ),
        (
            "class R:\n    def put(self, key, new_state):\n        self.next_states[█\n",
            "] = new_state\n",
            "python",
        ),
        ("def first(rows):\n    return rows(0)[█\n", "]\n", "python"),
    ],
)
def test_a_subscript_without_its_index_is_not_suggested(doc: str, raw: str, language: str) -> None:
    assert clean_at(doc, raw, language) == ""


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        ("let names: string[█\n", "] = [];", "typescript"),  # a type
        ("def f():\n    xs = [█\n", "]", "python"),  # a list
        ("function f() {\n  return [█\n}\n", "];", "javascript"),  # a list after a keyword
        ('def f():\n    s = "args[█\n', ']"', "python"),  # in a string
        ("def f(key):\n    return rows[█\n", "key]", "python"),  # an index
    ],
)
def test_brackets_that_are_no_empty_subscript_stay(doc: str, raw: str, language: str) -> None:
    assert clean_at(doc, raw, language) == raw


# ----------------------------------------------------------- closers of nothing open

ANYIO = """\
class AsyncBackend(metaclass=ABCMeta):
    @classmethod
    @abstractmethod
    async def run_sync_in_worker_thread(
        cls,
        func: Callable[[Unpack[PosArgsT]█
        args: tuple[Unpack[PosArgsT]],
    ) -> T_Retval:
        pass
"""

QS = """\
test('arrayLimit', function (t) {
    t.test('object input', function (sst) {
                sst.deepEqual(qs.parse({ a: [] }, options), { a: [] }, label +█
    });
});
"""

REDUCE = """\
export function total(items: Item[]): number {
    const sum = items.reduce((acc, item) => acc + item.price█
    return sum;
}
"""


@pytest.mark.parametrize(
    ("doc", "raw", "language", "expected"),
    [
        (ANYIO, "]], None],", "python", "]], None"),
        (ANYIO, "]], Awaitable[T_Retval]],", "python", "]], Awaitable[T_Retval]"),
        (QS, " 'parse' + label });", "javascript", " 'parse' + label"),
        (REDUCE, ", 0]);", "typescript", ", 0"),
    ],
)
def test_the_line_is_cut_where_it_closes_a_bracket_not_open(
    doc: str, raw: str, language: str, expected: str
) -> None:
    assert clean_at(doc, raw, language) == expected


CALLBACK = """\
describe('runner', () => {
  it('bails', () => {
    expect(runner.state).toBe(BAILED);
  }█
});
"""

ARGS = """\
def build(parts):
    return Request(
        method="GET",
        url=parts.url█
"""

# The window starts inside a docstring: its prose is read as code until an apostrophe hides
# the closing quotes, and leaves a bracket "open" that is no code's.
DOCSTRING_WINDOW = '''\
from the settings module.
    The first key is read (the others are checked
    later, when they're used."""
    "gamma": 3█
'''


@pytest.mark.parametrize(
    ("doc", "raw", "language"),
    [
        (CALLBACK, ");", "javascript"),  # closes the call opened lines above
        (ARGS, ")", "python"),  # closes the call opened lines above
        ("def f(x):\n    return g(x█\n", ', "[")', "python"),  # brackets in strings
        ("const f = (s) => s.replace(█\n", '/[)\\]]+/g, "")', "javascript"),  # in a regex
        (
            "function f(a) {\n  return foo(`${a.map((x) => `[${x}`)}`, █\n}\n",
            "1);",
            "javascript",
        ),  # brackets in the text of a template literal inside another one
        (DOCSTRING_WINDOW, "}", "python"),  # the window's first bracket is no code's
    ],
)
def test_closers_of_brackets_that_are_open_stay(doc: str, raw: str, language: str) -> None:
    assert clean_at(doc, raw, language) == raw
