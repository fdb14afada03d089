// Package provisioners mirrors the two struct types score-compose and score-k8s pass to
// templates in Data.WorkloadServices (internal/provisioners/core.go), so the oracle's
// values have the tools' types and type names.
package provisioners

// ServicePort is the tools' ServicePort (Protocol is a string type there).
type ServicePort struct {
	Name       string `json:"name"`
	Port       int    `json:"port"`
	TargetPort int    `json:"target_port"`
	Protocol   string `json:"protocol"`
}

// NetworkService is the tools' NetworkService.
type NetworkService struct {
	ServiceName string                 `yaml:"service_name"`
	Ports       map[string]ServicePort `json:"ports"`
}

// FromData builds the tools' map from JSON-decoded data in Go field names.
func FromData(v interface{}) map[string]NetworkService {
	out := map[string]NetworkService{}
	m, _ := v.(map[string]interface{})
	str := func(x interface{}) string { s, _ := x.(string); return s }
	num := func(x interface{}) int { i, _ := x.(int); return i }
	for name, s := range m {
		sm, _ := s.(map[string]interface{})
		ns := NetworkService{ServiceName: str(sm["ServiceName"]), Ports: map[string]ServicePort{}}
		ps, _ := sm["Ports"].(map[string]interface{})
		for pn, p := range ps {
			pm, _ := p.(map[string]interface{})
			ns.Ports[pn] = ServicePort{
				Name:       str(pm["Name"]),
				Port:       num(pm["Port"]),
				TargetPort: num(pm["TargetPort"]),
				Protocol:   str(pm["Protocol"]),
			}
		}
		out[name] = ns
	}
	return out
}
