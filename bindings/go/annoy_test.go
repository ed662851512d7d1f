package ann

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Files written by the real Annoy 1.17.3 (tests/fixtures/annoy, from make_fixtures.py), read
// with LoadAnnoy, give the answers Annoy recorded in the matching .expected file.

var fixtureDir = filepath.Join("..", "..", "tests", "fixtures", "annoy")

var fixtureCases = []string{
	"angular", "angular_holes", "angular_old_norms", "euclidean", "euclidean_small",
	"manhattan", "dot", "hamming",
}

func parseFloats(t *testing.T, s string) []float32 {
	var out []float32
	for _, field := range strings.Fields(s) {
		x, err := strconv.ParseFloat(field, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, float32(x))
	}
	return out
}

func parseInts(t *testing.T, s string) []uint64 {
	var out []uint64
	for _, field := range strings.Fields(s) {
		x, err := strconv.ParseUint(field, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

// annoyClose compares distances to 1e-5 relative. Angular distances, sqrt(2 - 2cos) in
// float32, turn one ulp of cos near 0 into ~4e-4, so they are also compared as 2 - 2cos.
func annoyClose(m Metric, a, b float32) bool {
	diff := math.Abs(float64(a) - float64(b))
	if diff <= 1e-5*math.Max(math.Abs(float64(a)), math.Abs(float64(b))) {
		return true
	}
	const float32Epsilon = 1.1920929e-07
	return m == Angular && math.Abs(float64(a*a-b*b)) <= 8*float32Epsilon
}

// sameResults: equal to Annoy's, except where candidates' distances tie within rounding.
func sameResults(t *testing.T, m Metric, what string, ids []uint64, dists []float32, want []uint64, wantDists []float32) {
	t.Helper()
	if len(ids) != len(want) {
		t.Fatalf("%s: %d results, Annoy %d", what, len(ids), len(want))
	}
	for i := range ids {
		if !annoyClose(m, dists[i], wantDists[i]) {
			t.Fatalf("%s: distance %d: %v, Annoy %v", what, i, dists[i], wantDists[i])
		}
		if ids[i] == want[i] {
			continue
		}
		tied := annoyClose(m, wantDists[len(wantDists)-1], dists[i])
		for j := range want {
			tied = tied || (want[j] == ids[i] && annoyClose(m, wantDists[j], dists[i]))
		}
		if !tied {
			t.Fatalf("%s: ids %v, Annoy %v", what, ids, want)
		}
	}
}

func TestAnnoyFixturesGiveAnnoysAnswers(t *testing.T) {
	if _, err := os.Stat(fixtureDir); err != nil {
		t.Skip("no Annoy fixtures: not running from the ann repository")
	}
	for _, name := range fixtureCases {
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join(fixtureDir, name+".expected"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(text)), "\n")
			header := map[string]string{}
			for _, line := range lines[:4] {
				key, value, _ := strings.Cut(line, " ")
				header[key] = value
			}
			m, err := ParseMetric(header["metric"])
			if err != nil {
				t.Fatal(err)
			}
			dim, _ := strconv.Atoi(header["dim"])
			idx, err := LoadAnnoy(filepath.Join(fixtureDir, name+".annoy"), dim, m, false)
			if err != nil {
				t.Fatal(err)
			}
			defer idx.Close()
			if strconv.FormatUint(idx.NItems(), 10) != header["n_items"] ||
				strconv.Itoa(idx.NTrees()) != header["n_trees"] {
				t.Fatalf("%d items, %d trees; Annoy: %v", idx.NItems(), idx.NTrees(), header)
			}
			if err := idx.Verify(); err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, line := range lines[4:] {
				parts := strings.Split(line, " | ")
				head := strings.Fields(parts[0])
				switch head[0] {
				case "query":
					searchK, _ := strconv.Atoi(head[1])
					n, _ := strconv.Atoi(head[2])
					ids, dists, err := idx.GetNnsByVector(parseFloats(t, strings.Join(head[3:], " ")), n, searchK)
					if err != nil {
						t.Fatal(err)
					}
					sameResults(t, m, line, ids, dists, parseInts(t, parts[1]), parseFloats(t, parts[2]))
				case "item":
					id, _ := strconv.ParseUint(head[1], 10, 64)
					searchK, _ := strconv.Atoi(head[2])
					n, _ := strconv.Atoi(head[3])
					ids, dists, err := idx.GetNnsByItem(id, n, searchK)
					if err != nil {
						t.Fatal(err)
					}
					sameResults(t, m, line, ids, dists, parseInts(t, parts[1]), parseFloats(t, parts[2]))
				case "distance":
					i, _ := strconv.ParseUint(head[1], 10, 64)
					j, _ := strconv.ParseUint(head[2], 10, 64)
					d, err := idx.GetDistance(i, j)
					if err != nil || !annoyClose(m, d, parseFloats(t, head[3])[0]) {
						t.Fatalf("%s: %v %v", line, d, err)
					}
				case "vector":
					id, _ := strconv.ParseUint(head[1], 10, 64)
					v, err := idx.GetItemVector(id)
					if err != nil || !reflect.DeepEqual(v, parseFloats(t, strings.Join(head[2:], " "))) {
						t.Fatalf("%s: %v %v", line, v, err)
					}
				default:
					t.Fatalf("unknown line %q", line)
				}
				checked++
			}
			if checked < 40 {
				t.Fatalf("only %d checks", checked)
			}
		})
	}
}

// An Annoy file is recognised by FileInfo, and its dim must be given: the wrong one is refused.
func TestAnnoyFileInfoAndWrongDim(t *testing.T) {
	if _, err := os.Stat(fixtureDir); err != nil {
		t.Skip("no Annoy fixtures: not running from the ann repository")
	}
	path := filepath.Join(fixtureDir, "angular.annoy") // 640 nodes of 52 bytes
	info, err := FileInfo(path)
	if err != nil || info.Kind != FileAnnoy || info.FileSize != 33280 {
		t.Fatalf("%+v %v", info, err)
	}
	_, err = LoadAnnoy(path, 11, Angular, false)
	expectError(t, err, ErrCorruptFile, "LoadAnnoy")
	_, err = Load(path, false)
	expectError(t, err, ErrCorruptFile, "Load")
}
