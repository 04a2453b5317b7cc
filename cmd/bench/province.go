package main

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/localpg"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// province makes the Regions of a province: counties 35xx01.., each with its townships
// and branches, a database (unless -database=false) and the whole platform.
func province(o options, server string) []*platformv1.Region {
	var out []*platformv1.Region
	for c := range o.counties {
		code := fmt.Sprintf("%02d%04d", 11+c/9000, c%9000+1000)
		rg := &platformv1.Region{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("county-%04d", c)},
			Spec: platformv1.RegionSpec{
				DisplayName: fmt.Sprintf("第%d县", c+1), Code: code,
				Access: platformv1.Access{
					Admins: []string{fmt.Sprintf("county-%04d-admins", c)}, Supervisors: []string{fmt.Sprintf("county-%04d-discipline", c)},
					TownshipAdmins: "{region}-{township}-admins",
				},
				Network: platformv1.Network{IngressFrom: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}}},
				Platform: &platformv1.Platform{
					Modules: []string{"portal", "services", "deliberation", "emergency", "supervision"},
					Image:   platformv1.Image{Registry: "registry.example.gov.cn/jiceng", Tag: "1.4.2"},
				},
				DeletionPolicy: platformv1.DeletionPolicyRetain,
			},
		}
		if o.database {
			rg.Spec.Database = &platformv1.Database{ServerRef: server}
		}
		for t := range o.townships {
			tw := platformv1.Township{Name: fmt.Sprintf("t%03d", t), DisplayName: fmt.Sprintf("第%d镇", t+1), Code: fmt.Sprintf("%s%03d", code, 100+t)}
			for b := range o.branches {
				tw.Branches = append(tw.Branches, platformv1.Branch{
					Name: fmt.Sprintf("b%03d", b), DisplayName: fmt.Sprintf("第%d村党支部", b+1), Kind: platformv1.BranchVillage,
					Code: fmt.Sprintf("%s%03d", tw.Code, 200+b), Members: int32(10 + b%40),
				})
			}
			rg.Spec.Townships = append(rg.Spec.Townships, tw)
		}
		out = append(out, rg)
	}
	return out
}

// The login the operator and the floor provision with: CREATEDB and CREATEROLE only.
const (
	benchAdmin    = "bench_admin"
	benchPassword = "bench-Pa55"
)

// startPlane starts a control plane and a PostgreSQL with the provisioning login.
func startPlane() (*localenv.Env, *localpg.Server, func(), error) {
	env, err := localenv.Start()
	if err != nil {
		return nil, nil, nil, err
	}
	pg, err := localpg.Start()
	if err != nil {
		_ = env.Stop()
		return nil, nil, nil, err
	}
	stop := func() { pg.Remove(); _ = env.Stop() }
	if err := pg.CreateAdmin(context.Background(), benchAdmin, benchPassword); err != nil {
		stop()
		return nil, nil, nil, err
	}
	return env, pg, stop, nil
}

// fixedPassword gives every role the same password in the floor: the floor measures the
// statements, not password generation.
// blueprints are the Kubernetes objects of the Regions.
func blueprints(regions []*platformv1.Region, cfg pgsql.ServerConfig) ([]kruntime.ApplyConfiguration, error) {
	var out []kruntime.ApplyConfiguration
	for _, rg := range regions {
		objs, err := desired.Objects(rg, desired.Options{
			Server:   desired.Server{Host: cfg.Host, Port: cfg.Port, SSLMode: cfg.SSLMode},
			Password: fixedPassword,
		})
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			out = append(out, o.Config)
		}
	}
	return out, nil
}

func fixedPassword(string) string { return "floor-password-0123456789abcdef" }
