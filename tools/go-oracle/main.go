// Command go-oracle renders Go text/template + sprig cases with Go's own
// implementation, so score-gen's Rust engine can be diffed against it.
//
// Usage: go-oracle CASES.json  (or "-" for stdin) writes a JSON array of
// {"name", "output"} or {"name", "error", "phase"} to stdout, one row per case;
// go-oracle -update CASES.json rewrites the file with each case's "go" field set
// to that result (the expected outputs of score-gen's table test); go-oracle
// -update-shared SWEEP.json does the same for a file of cases sharing one data set.
//
// A case is {"name", "template", "data", "flavor"?, "root"?}. "data" is JSON:
// integral numbers become Go ints (as the tools' YAML decoding gives), other
// numbers float64. With "root" (a list of field names) the data is a struct
// with those fields, as the tools pass their Data struct; otherwise a map.
// "flavor" is "compose" (sprig), "k8s" (+ encodeSecretRef) or "k8s-patch"
// (+ substituteValue, stubbed: it has no state directory here).
package main

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"text/template"

	"github.com/Masterminds/sprig"

	"./provisioners"
)

type testCase struct {
	Name     string          `json:"name"`
	Template string          `json:"template"`
	Data     json.RawMessage `json:"data"`
	Flavor   string          `json:"flavor,omitempty"`
	Root     []string        `json:"root,omitempty"`
}

type result struct {
	Name   string  `json:"name,omitempty"`
	Output *string `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
	Phase  string  `json:"phase,omitempty"`
}

func convert(v interface{}) interface{} {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i)
		}
		f, _ := t.Float64()
		return f
	case map[string]interface{}:
		for k, e := range t {
			t[k] = convert(e)
		}
		return t
	case []interface{}:
		for i, e := range t {
			t[i] = convert(e)
		}
		return t
	}
	return v
}

func decode(raw json.RawMessage) (interface{}, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v interface{}
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return convert(v), nil
}

// rootStruct builds a struct with the named fields, typed after their values
// (string, map[string]interface{}, []interface{}, else interface{}); WorkloadServices
// has the tools' type, map[string]provisioners.NetworkService.
func rootStruct(fields []string, data interface{}) interface{} {
	m, _ := data.(map[string]interface{})
	sf := make([]reflect.StructField, 0, len(fields))
	for _, f := range fields {
		var typ reflect.Type
		if f == "WorkloadServices" {
			// The tools' map[string]provisioners.NetworkService.
			typ = reflect.TypeOf(map[string]provisioners.NetworkService{})
			if x, ok := m[f]; ok && x != nil {
				m[f] = provisioners.FromData(x)
			}
			sf = append(sf, reflect.StructField{Name: f, Type: typ})
			continue
		}
		switch m[f].(type) {
		case string:
			typ = reflect.TypeOf("")
		case map[string]interface{}:
			typ = reflect.TypeOf(map[string]interface{}{})
		case []interface{}:
			typ = reflect.TypeOf([]interface{}{})
		default:
			typ = reflect.TypeOf((*interface{})(nil)).Elem()
		}
		sf = append(sf, reflect.StructField{Name: f, Type: typ})
	}
	v := reflect.New(reflect.StructOf(sf)).Elem()
	for i, f := range fields {
		if x, ok := m[f]; ok && x != nil {
			v.Field(i).Set(reflect.ValueOf(x))
		}
	}
	return v.Interface()
}

func funcs(flavor string) template.FuncMap {
	fm := sprig.TxtFuncMap()
	// The tools ship sprig 3.3.0, Debian packages 3.2.3: what 3.3.0 added, as 3.3.0 defines it.
	if _, ok := fm["sha512sum"]; !ok {
		fm["sha512sum"] = func(input string) string {
			hash := sha512.Sum512([]byte(input))
			return hex.EncodeToString(hash[:])
		}
	}
	switch flavor {
	case "k8s":
		fm["encodeSecretRef"] = func(secret, key string) string {
			return "🔐💬" + secret + "_" + key + "💬🔐"
		}
	case "k8s-patch":
		fm["substituteValue"] = func(workloadName string, value string) string {
			return "failed to load state directory"
		}
	}
	return fm
}

func run(c testCase) (res result) {
	res.Name = c.Name
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint("panic: ", r)
			res.Output = nil
			res.Error = &msg
			res.Phase = "panic"
		}
	}()
	fail := func(phase string, err error) result {
		msg := err.Error()
		res.Error = &msg
		res.Phase = phase
		return res
	}
	data, err := decode(c.Data)
	if err != nil {
		return fail("data", err)
	}
	if c.Root != nil {
		data = rootStruct(c.Root, data)
	}
	t, err := template.New("").Funcs(funcs(c.Flavor)).Parse(c.Template)
	if err != nil {
		return fail("parse", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fail("exec", err)
	}
	out := buf.String()
	res.Output = &out
	return res
}

func update(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return err
	}
	for _, row := range rows {
		var c testCase
		b, _ := json.Marshal(row)
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		r := run(c)
		r.Name = ""
		enc, err := marshal(r)
		if err != nil {
			return err
		}
		row["go"] = enc
	}
	out, err := marshal(rows)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", " "); err != nil {
		return err
	}
	pretty.WriteByte('\n')
	return os.WriteFile(path, pretty.Bytes(), 0o644)
}

// updateShared rewrites a file of cases sharing one data set,
// {"about", "data", "root", "cases": [{"name", "template", "go"}]}, with each
// case's "go" field set to its result.
func updateShared(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var file struct {
		About string                       `json:"about"`
		Data  json.RawMessage              `json:"data"`
		Root  []string                     `json:"root"`
		Cases []map[string]json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return err
	}
	for _, row := range file.Cases {
		var name, tmpl string
		if err := json.Unmarshal(row["name"], &name); err != nil {
			return err
		}
		if err := json.Unmarshal(row["template"], &tmpl); err != nil {
			return err
		}
		r := run(testCase{Name: name, Template: tmpl, Data: file.Data, Root: file.Root})
		r.Name = ""
		enc, err := marshal(r)
		if err != nil {
			return err
		}
		row["go"] = enc
	}
	out, err := marshal(file)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", " "); err != nil {
		return err
	}
	pretty.WriteByte('\n')
	return os.WriteFile(path, pretty.Bytes(), 0o644)
}

func marshal(v interface{}) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-update-shared" {
		if err := updateShared(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-update" {
		if err := update(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-oracle CASES.json|-")
		os.Exit(2)
	}
	var in io.Reader = os.Stdin
	if os.Args[1] != "-" {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		in = f
	}
	var cases []testCase
	if err := json.NewDecoder(in).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "cases:", err)
		os.Exit(1)
	}
	out := make([]result, 0, len(cases))
	for _, c := range cases {
		out = append(out, run(c))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
