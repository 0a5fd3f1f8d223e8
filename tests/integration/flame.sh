# netprof flame: folded stacks to an interactive SVG flame graph, plain and
# differential; well-formed XML, the right frames and counts, escaping,
# colors, the zoom and search script, and every kind of bad input.
source "$(dirname "$0")/../lib.sh"

T_DIR=$(mktemp -d /tmp/netprof-flame-test.XXXXXX)
trap 'rm -rf "$T_DIR"' EXIT

# svg_matches_folded FOLDED SVG [all]: the SVG is well-formed XML whose frames
# are exactly the folded file's frame paths (depth, name, inclusive samples,
# tooltip "name (N samples, P%)") plus the root, one <rect> each, and it
# carries the inline script. With "all", every frame path must be drawn.
svg_matches_folded() {
	python3 - "$@" <<'EOF' || fail "SVG does not match $1"
import collections, sys, xml.etree.ElementTree as ET
folded, svg = sys.argv[1], sys.argv[2]
inclusive = collections.Counter()
for line in open(folded, encoding='utf-8'):
    stack, count = line.rstrip('\n').rsplit(' ', 1)
    frames = stack.split(';')
    for depth in range(1, len(frames) + 1):
        inclusive[tuple(frames[:depth])] += int(count)
total = sum(c for p, c in inclusive.items() if len(p) == 1)
want = collections.Counter({(0, 'all', total): 1})
for path, c in inclusive.items():
    want[(len(path), path[-1], c)] += 1
NS = '{http://www.w3.org/2000/svg}'
doc = ET.parse(svg).getroot()   # raises on malformed XML
assert doc.tag == NS + 'svg', doc.tag
frames = [g for g in doc.iter(NS + 'g') if 'data-n' in g.attrib]
got = collections.Counter()
for g in frames:
    rects, titles = g.findall(NS + 'rect'), g.findall(NS + 'title')
    assert len(rects) == 1 and len(titles) == 1, 'one rect and one tooltip per frame'
    tip = titles[0].text
    name, suffix = tip[:tip.rindex(' (')], tip[tip.rindex(' (') + 1:]
    n = int(g.get('data-n'))
    expect = '(%d samples, %.2f%%)' % (n, 100.0 * n / total)
    assert suffix == expect, 'tooltip %r, expected %r' % (tip, expect)
    got[(int(g.get('data-d')), name, n)] += 1
rects = [r for r in doc.iter(NS + 'rect') if r.get('id') != 'background']
assert len(rects) == len(frames), '%d rects for %d frames' % (len(rects), len(frames))
if len(sys.argv) > 3:
    assert len(frames) == len(inclusive) + 1, '%d frames, %d paths + root' % (len(frames), len(inclusive))
    assert got == want, 'frames differ: missing %s, extra %s' % (list((want - got).items())[:5], list((got - want).items())[:5])
else:
    assert not (got - want), 'frames not in the profile: %s' % list((got - want).items())[:5]
scripts = list(doc.iter(NS + 'script'))
assert len(scripts) == 1 and 'function zoom' in scripts[0].text, 'inline script'
assert 'xlink:href' not in open(svg).read(), 'nothing external'
EOF
}

write_small_profile() {
	cat > "$1" <<'EOF'
netprof;main;run_worker;sendmsg;tcp_sendmsg;tcp_push 120
netprof;main;run_worker;sendmsg;tcp_sendmsg 30
netprof;main;run_worker;recvmsg;tcp_recvmsg 80
ksoftirqd/0;net_rx_action;__netif_receive_skb;ip_rcv;nf_hook_slow;ipt_do_table 60
ksoftirqd/0;net_rx_action;__netif_receive_skb;ip_rcv;ip_local_deliver 40
netprof;main;run_worker;sendmsg;tcp_sendmsg;tcp_push 15
swapper;a<b>&"c" 10
envoy;operator new(unsigned long) 25
EOF
}

test_renders_every_frame_with_tooltips() {
	local f=$T_DIR/small.folded svg=$T_DIR/small.svg
	write_small_profile "$f"
	expect_rc 0 "$NETPROF" flame "$f" -o "$svg"
	[[ "$T_OUT" == *"wrote $svg: 380 samples, 20 frames"* ]] || fail "summary: $T_OUT"
	svg_matches_folded "$f" "$svg" all
	# The aggregated frame: 120 + 15 + 30 samples of 380.
	grep -q '<title>tcp_sendmsg (165 samples, 43.42%)</title>' "$svg" || fail "tcp_sendmsg tooltip"
	grep -q '<title>all (380 samples, 100.00%)</title>' "$svg" || fail "root tooltip"
}

test_escapes_xml_in_frame_names() {
	local f=$T_DIR/small.folded svg=$T_DIR/esc.svg
	write_small_profile "$f"
	printf 'ctl;bad\xff\x01bytes 3\n' >> "$f"
	expect_rc 0 "$NETPROF" flame "$f" -o "$svg" --title 'tx < rx & "more"'
	grep -q '<title>a&lt;b&gt;&amp;&quot;c&quot; (10 samples, 2.61%)</title>' "$svg" || fail "escaped tooltip"
	python3 - "$svg" <<'EOF' || fail "escaped names read back"
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
tips = [t.firstChild.data for t in doc.getElementsByTagName('title')]
assert 'a<b>&"c" (10 samples, 2.61%)' in tips, tips
assert 'bad\ufffd\ufffdbytes (3 samples, 0.78%)' in tips, 'bad bytes replaced'
title = [t for t in doc.getElementsByTagName('text') if t.getAttribute('id') == 'title'][0]
assert title.firstChild.data == 'tx < rx & "more"', title.firstChild.data
EOF
}

test_stdout_and_terminal() {
	local f=$T_DIR/small.folded
	write_small_profile "$f"
	"$NETPROF" flame "$f" -o "$T_DIR/file.svg" >/dev/null || fail "render to file"
	"$NETPROF" flame "$f" > "$T_DIR/stdout.svg" || fail "render to stdout"
	cmp -s "$T_DIR/file.svg" "$T_DIR/stdout.svg" || fail "stdout and -o differ"
	"$NETPROF" flame - < "$f" > "$T_DIR/stdin.svg" || fail "render from stdin"
	python3 -c 'import xml.dom.minidom, sys; xml.dom.minidom.parse(sys.argv[1])' "$T_DIR/stdin.svg" ||
		fail "stdin SVG not XML"
	need_cmd script
	# A terminal on stdout: refuse with one usage line, write nothing.
	local out rc=0
	out=$(cd "$T_DIR" && script -qec "$NETPROF flame $f" /dev/null) || rc=$?
	expect_eq "$rc" 2 "exit code with a terminal on stdout"
	[[ "$out" == *"stdout is a terminal: give -o out.svg"* ]] || fail "terminal message: $out"
	[[ "$out" != *"<svg"* ]] || fail "SVG written to the terminal"
}

test_usage_errors() {
	local f=$T_DIR/small.folded
	write_small_profile "$f"
	expect_rc 2 "$NETPROF" flame -o "$T_DIR/x.svg"
	expect_lines 1 "$T_OUT" "no input: one line"
	[[ "$T_OUT" == *"no input file"* ]] || fail "no input: $T_OUT"
	expect_rc 2 "$NETPROF" flame --diff "$f" -o "$T_DIR/x.svg"
	expect_lines 1 "$T_OUT" "--diff with one file: one line"
	expect_rc 2 "$NETPROF" flame "$f" "$f" -o "$T_DIR/x.svg"
	expect_lines 1 "$T_OUT" "two files without --diff: one line"
	expect_rc 2 "$NETPROF" flame "$f" --colors purple -o "$T_DIR/x.svg"
	[[ "$T_OUT" == *"--colors 'purple'"* ]] || fail "names the palette: $T_OUT"
	expect_rc 2 "$NETPROF" flame "$f" --colors diff -o "$T_DIR/x.svg"
	expect_lines 1 "$T_OUT" "--colors diff without --diff: one line"
	expect_rc 2 "$NETPROF" flame "$f" --width 10 -o "$T_DIR/x.svg"
	expect_lines 1 "$T_OUT" "--width too small: one line"
	expect_rc 2 "$NETPROF" flame "$f" --min-width abc -o "$T_DIR/x.svg"
	expect_lines 1 "$T_OUT" "--min-width: one line"
	[ ! -e "$T_DIR/x.svg" ] || fail "a usage error wrote an SVG"
}

test_missing_file() {
	expect_rc 1 "$NETPROF" flame "$T_DIR/nope.folded" -o "$T_DIR/out.svg"
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"cannot read $T_DIR/nope.folded: No such file or directory"* ]] || fail "message: $T_OUT"
	[ ! -e "$T_DIR/out.svg" ] || fail "SVG written"
	expect_rc 1 "$NETPROF" flame "$T_DIR" -o "$T_DIR/out.svg"
	[[ "$T_OUT" == *"cannot read $T_DIR: Is a directory"* ]] || fail "directory: $T_OUT"
	[ ! -e "$T_DIR/out.svg" ] || fail "SVG written"
}

test_malformed_lines_reported_by_number() {
	local f=$T_DIR/bad.folded rc=0 out
	# 50 lines: good ones, then 25 bad ones of five kinds at known lines.
	for i in $(seq 1 50); do
		if [ $((i % 2)) = 1 ]; then echo "app;fn_$i $i"
		else case $((i % 10)) in
			0) echo "app;fn_$i" ;;
			2) echo "app;fn_$i zero0" ;;
			4) echo "" ;;
			6) echo "app;;fn_$i 3" ;;
			8) echo "app;fn_$i 0" ;;
		esac; fi
	done > "$f"
	expect_rc 1 "$NETPROF" flame "$f" -o "$T_DIR/bad.svg"
	expect_lines 22 "$T_OUT" "20 errors, the count of the rest, the summary"
	echo "$T_OUT" | grep -qx "$f:2: count 'zero0' is not a positive integer" || fail "line 2: $T_OUT"
	echo "$T_OUT" | grep -qx "$f:4: empty line" || fail "line 4"
	echo "$T_OUT" | grep -qx "$f:6: frame 2 is empty (a ';' at the start, at the end or doubled)" || fail "line 6"
	echo "$T_OUT" | grep -qx "$f:8: count '0' is not a positive integer" || fail "line 8"
	echo "$T_OUT" | grep -qx "$f:10: no count: expected frames joined by ';', a space and a sample count" ||
		fail "line 10"
	echo "$T_OUT" | grep -qx "$f:40: no count: expected frames joined by ';', a space and a sample count" ||
		fail "line 40, the twentieth error"
	echo "$T_OUT" | grep -q "^$f:42:" && fail "more than 20 errors printed"
	echo "$T_OUT" | grep -qx "$f: 5 more errors" || fail "count of the rest: $T_OUT"
	[[ "$T_OUT" == *"$f: 25 malformed lines, no SVG written"* ]] || fail "summary: $T_OUT"
	[ ! -e "$T_DIR/bad.svg" ] || fail "SVG written for a malformed file"
	# To stdout: nothing at all on stdout.
	out=$("$NETPROF" flame "$f" 2>/dev/null) || rc=$?
	expect_eq "$rc" 1 "exit code to stdout"
	expect_eq "$out" "" "stdout"
	# A bad B in a diff is reported the same way.
	write_small_profile "$T_DIR/good.folded"
	expect_rc 1 "$NETPROF" flame --diff "$T_DIR/good.folded" "$f" -o "$T_DIR/bad.svg"
	echo "$T_OUT" | grep -qx "$f:2: count 'zero0' is not a positive integer" || fail "diff B errors"
	[ ! -e "$T_DIR/bad.svg" ] || fail "SVG written for a malformed diff"
}

test_empty_profile() {
	: > "$T_DIR/empty.folded"
	expect_rc 1 "$NETPROF" flame "$T_DIR/empty.folded" -o "$T_DIR/empty.svg"
	expect_lines 1 "$T_OUT" "one line"
	[[ "$T_OUT" == *"$T_DIR/empty.folded: no samples"* ]] || fail "message: $T_OUT"
	[ ! -e "$T_DIR/empty.svg" ] || fail "empty SVG written"
	write_small_profile "$T_DIR/good.folded"
	expect_rc 1 "$NETPROF" flame --diff "$T_DIR/empty.folded" "$T_DIR/good.folded" -o "$T_DIR/empty.svg"
	[[ "$T_OUT" == *"$T_DIR/empty.folded: no samples"* ]] || fail "diff A empty: $T_OUT"
	[ ! -e "$T_DIR/empty.svg" ] || fail "empty diff SVG written"
}

test_diff_colors_grew_red_shrank_blue() {
	local a=$T_DIR/calico.folded b=$T_DIR/cilium.folded svg=$T_DIR/diff.svg
	# calico: 1000 samples, 40% in iptables; cilium: 500, 10% in iptables,
	# 20% in a BPF program calico never ran.
	cat > "$a" <<'EOF'
ksoftirqd;net_rx_action;ip_rcv;nf_hook_slow;ipt_do_table 400
ksoftirqd;net_rx_action;ip_rcv;ip_local_deliver 300
app;tcp_sendmsg 300
EOF
	cat > "$b" <<'EOF'
ksoftirqd;net_rx_action;ip_rcv;nf_hook_slow;ipt_do_table 50
ksoftirqd;net_rx_action;tcx_ingress;bpf_prog_cil_from_container 100
ksoftirqd;net_rx_action;ip_rcv;ip_local_deliver 150
app;tcp_sendmsg 200
EOF
	expect_rc 0 "$NETPROF" flame --diff "$a" "$b" -o "$svg"
	svg_matches_diff() {
		python3 - "$@" <<'EOF' || fail "diff SVG"
import re, sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
fill = {}
for g in doc.getElementsByTagName('g'):
    if not g.hasAttribute('data-n'):
        continue
    tip = g.getElementsByTagName('title')[0].firstChild.data
    fill[tip] = tuple(int(v) for v in re.match(r'rgb\((\d+),(\d+),(\d+)\)',
                      g.getElementsByTagName('rect')[0].getAttribute('fill')).groups())
def frame(prefix):
    hits = [t for t in fill if t.startswith(prefix + ' (')]
    assert len(hits) == 1, (prefix, hits)
    return hits[0], fill[hits[0]]
tip, (r, g, b) = frame('bpf_prog_cil_from_container')
assert tip == 'bpf_prog_cil_from_container (A 0 samples 0.00%, B 100 samples 20.00%, +20.00 pp)', tip
assert r == 255 and g < 200 and b == g, 'only in B: red, got %s' % ((r, g, b),)
tip, (r, g, b) = frame('ipt_do_table')
assert tip == 'ipt_do_table (A 400 samples 40.00%, B 50 samples 10.00%, -30.00 pp)', tip
assert b == 255 and r < 200 and g == r, 'shrank: blue, got %s' % ((r, g, b),)
tip, (r, g, b) = frame('tcp_sendmsg')
assert tip == 'tcp_sendmsg (A 300 samples 30.00%, B 200 samples 40.00%, +10.00 pp)', tip
assert r == 255 and g > 100, 'grew less: lighter red, got %s' % ((r, g, b),)
tip, (r, g, b) = frame('ip_local_deliver')
assert (r, g, b) == (250, 250, 250), 'same share (30%%): white, got %s' % ((r, g, b),)
# Widths from B: the root spans B's 500 samples.
assert any(t.startswith('all (A 1000 samples 100.00%, B 500 samples 100.00%') for t in fill)
EOF
	}
	svg_matches_diff "$svg"
	grep -q 'red grew, blue shrank; 0.0% of A in frames B lacks, not drawn</text>' "$svg" ||
		fail "subtitle: every path of A is in B"
	# The other way round, B's BPF program (100 of 500) is not drawn.
	expect_rc 0 "$NETPROF" flame --diff "$b" "$a" -o "$T_DIR/reverse.svg"
	grep -q '; 20.0% of A in frames B lacks, not drawn</text>' "$T_DIR/reverse.svg" ||
		fail "subtitle: B's BPF program missing from A"
	grep -q 'bpf_prog_cil_from_container' "$T_DIR/reverse.svg" && fail "frame only in A drawn"
	# The default palette keeps the layout and the tooltips.
	expect_rc 0 "$NETPROF" flame --diff "$a" "$b" --colors default -o "$T_DIR/warm.svg"
	grep -q 'ipt_do_table (A 400 samples 40.00%, B 50 samples 10.00%, -30.00 pp)' "$T_DIR/warm.svg" ||
		fail "tooltip with --colors default"
	grep -q 'fill="rgb(250,250,250)"' "$T_DIR/warm.svg" && fail "--colors default still paints the diff"
	return 0
}

# A profile of 5,000 distinct stacks: rendered fast, every frame kept with
# --min-width 0, and the default leaves out the invisible ones.
test_large_profile() {
	local f=$T_DIR/large.folded start ms size_all size_default
	python3 - "$f" <<'EOF'
import random, sys
rng = random.Random(6)
stacks = set()
while len(stacks) < 5000:
    depth = rng.randint(3, 30)
    stacks.add(';'.join(['proc_%d' % rng.randint(0, 3)] +
                        ['fn_%d_%d' % (d, rng.randint(0, 40)) for d in range(depth)]))
with open(sys.argv[1], 'w') as f:
    for s in sorted(stacks):
        f.write('%s %d\n' % (s, rng.randint(1, 1000)))
EOF
	expect_lines 5000 "$(cat "$f")" "generated stacks"
	start=$(date +%s%N)
	expect_rc 0 "$NETPROF" flame "$f" --min-width 0 -o "$T_DIR/all.svg"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	echo "5000 stacks, every frame: ${ms} ms, $(stat -c %s "$T_DIR/all.svg") bytes; $T_OUT"
	[ "$ms" -lt 5000 ] || fail "took ${ms} ms"
	svg_matches_folded "$f" "$T_DIR/all.svg" all
	expect_rc 0 "$NETPROF" flame "$f" -o "$T_DIR/default.svg"
	echo "default: $T_OUT"
	svg_matches_folded "$f" "$T_DIR/default.svg"
	size_all=$(stat -c %s "$T_DIR/all.svg")
	size_default=$(stat -c %s "$T_DIR/default.svg")
	[ "$size_all" -lt $((40 * 1024 * 1024)) ] || fail "every frame: $size_all bytes"
	[ "$size_default" -lt "$size_all" ] || fail "--min-width 0.1 left nothing out"
	[[ "$T_OUT" == *"narrower than --min-width left out"* ]] || fail "says what it left out: $T_OUT"
}

test_zoom_and_search_script() {
	need_cmd node
	local f=$T_DIR/js.folded svg=$T_DIR/js.svg
	cat > "$f" <<'EOF'
app;main;tcp_sendmsg;tcp_push 40
app;main;tcp_sendmsg 10
app;main;tcp_recvmsg 30
app;other 20
kernel;tcp_v4_rcv 100
EOF
	expect_rc 0 "$NETPROF" flame "$f" -o "$svg"
	# The SVG's own script runs against a small DOM built from the SVG.
	python3 - "$svg" > "$T_DIR/js.json" <<'EOF'
import json, sys, xml.dom.minidom
def conv(e):
    kids = [conv(c) for c in e.childNodes if c.nodeType == c.ELEMENT_NODE]
    text = ''.join(c.data for c in e.childNodes if c.nodeType in (c.TEXT_NODE, c.CDATA_SECTION_NODE))
    return {'tag': e.tagName, 'attrs': dict(e.attributes.items()), 'text': text, 'children': kids}
print(json.dumps(conv(xml.dom.minidom.parse(sys.argv[1]).documentElement)))
EOF
	node - "$T_DIR/js.json" <<'EOF' || fail "zoom/search script"
const assert = require('assert');
const tree = JSON.parse(require('fs').readFileSync(process.argv[2]));
class El {
	constructor(t, parent) {
		this.tagName = t.tag; this.attrs = Object.assign({}, t.attrs); this.text = t.text;
		this.parentNode = parent; this.listeners = {};
		this.children = t.children.map(c => new El(c, this));
	}
	getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
	setAttribute(k, v) { this.attrs[k] = String(v); }
	removeAttribute(k) { delete this.attrs[k]; }
	hasAttribute(k) { return k in this.attrs; }
	getElementsByTagName(tag) {
		const out = [], walk = e => e.children.forEach(c => { if (c.tagName === tag) out.push(c); walk(c); });
		walk(this); return out;
	}
	get textContent() { return this.text + this.children.map(c => c.textContent).join(''); }
	set textContent(v) { this.children = []; this.text = String(v); }
	addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
}
const root = new El(tree, null);
function walkAll(e, out) { out.push(e); e.children.forEach(c => walkAll(c, out)); return out; }
const els = walkAll(root, []);
const byId = id => els.find(e => e.attrs.id === id);
function fire(type, target, extra) {
	const ev = Object.assign({ target, preventDefault() { ev.prevented = true; } }, extra || {});
	for (let e = target; e; e = e.parentNode) (e.listeners[type] || []).forEach(fn => fn(ev));
	(win.listeners[type] || []).forEach(fn => fn(ev));
	return ev;
}
let answer = null, asked = 0;
const win = { listeners: {}, addEventListener(t, fn) { (this.listeners[t] = this.listeners[t] || []).push(fn); },
	prompt() { asked++; return answer; } };
const doc = { getElementById: byId, documentElement: root };
const script = els.find(e => e.tagName === 'script').text;
new Function('document', 'window', script)(doc, win);

const frames = byId('frames').children;
const frame = name => { const f = frames.filter(g => g.children[0].text.startsWith(name + ' (')); assert.strictEqual(f.length, 1, name); return f[0]; };
const rect = name => frame(name).children[1].attrs;
const label = name => frame(name).children[2].text;
const before = JSON.stringify(frames.map(g => [g.attrs, g.children[1].attrs, g.children[2].attrs, g.children[2].text]));

// Hover shows the tooltip below the graph.
fire('mouseover', frame('tcp_recvmsg').children[1]);
assert.strictEqual(byId('details').textContent, 'tcp_recvmsg (30 samples, 15.00%)');

// Zoom into main (80 of 200 samples): it and its callees fill 1180 px.
fire('click', frame('main').children[1]);
assert.deepStrictEqual([rect('main').x, rect('main').width], ['10.00', '1180.00']);
assert.deepStrictEqual([rect('tcp_recvmsg').x, rect('tcp_recvmsg').width], ['10.00', '442.50']);
assert.deepStrictEqual([rect('tcp_sendmsg').x, rect('tcp_sendmsg').width], ['452.50', '737.50']);
assert.deepStrictEqual([rect('tcp_push').x, rect('tcp_push').width], ['452.50', '590.00']);
assert.strictEqual(label('tcp_push'), 'tcp_push');
assert.strictEqual(frame('app').attrs.class, 'parent');
assert.strictEqual(rect('app').width, '1180.00');
assert.strictEqual(frame('all').attrs.class, 'parent');
for (const hidden of ['other', 'kernel', 'tcp_v4_rcv'])
	assert.strictEqual(frame(hidden).attrs.display, 'none', hidden + ' hidden');
assert.strictEqual(byId('reset').attrs.display, undefined, 'reset shown');

// Reset Zoom puts every frame back where the C side drew it.
fire('click', byId('reset'));
assert.strictEqual(JSON.stringify(frames.map(g => [g.attrs, g.children[1].attrs, g.children[2].attrs, g.children[2].text])), before);
assert.strictEqual(byId('reset').attrs.display, 'none');

// Search: nested matches (tcp_push in tcp_sendmsg) count once: 30+50+100 of 200.
answer = 'tcp_';
fire('click', byId('search'));
assert.strictEqual(byId('matched').textContent, 'Matched: 90.00% in 4 frames');
assert.strictEqual(frames.filter(g => g.children[1].attrs.fill === 'rgb(230,0,230)').length, 4);
assert.strictEqual(byId('search').textContent, 'Reset Search');
fire('click', byId('search'));
assert.strictEqual(JSON.stringify(frames.map(g => [g.attrs, g.children[1].attrs, g.children[2].attrs, g.children[2].text])), before);
// Ctrl-F asks too; an invalid regular expression is searched as text.
answer = 'main|(';
const ev = fire('keydown', root, { ctrlKey: true, keyCode: 70 });
assert.ok(ev.prevented && asked === 2, 'Ctrl-F opens the search');
assert.strictEqual(byId('matched').textContent, 'Matched: 0.00% in 0 frames');
answer = '^(main|other)$';
fire('keydown', root, { keyCode: 114 });
assert.strictEqual(byId('matched').textContent, 'Matched: 50.00% in 2 frames');
fire('keydown', root, { keyCode: 27 });
assert.strictEqual(byId('matched').textContent, ' ');
console.log('zoom, reset, search and keys behave');
EOF
}

run_tests
