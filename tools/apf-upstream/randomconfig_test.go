//go:build kauth_apf_hook

package apfupstream

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kauth/kauth/internal/apf"
)

// randomConfig is a configuration of an exempt level with random shares
// and lendable percentage and three limited levels with random shares,
// lendable and borrowing-limit percentages (or none), queuing or
// rejecting, each matched by the group team-<i>. It returns the
// configuration and a description for failure messages.
func randomConfig(t *testing.T, r *rand.Rand) (*apf.Config, string) {
	t.Helper()
	var desc strings.Builder
	pls := []*flowcontrolv1.PriorityLevelConfiguration{{
		ObjectMeta: metav1.ObjectMeta{Name: "exempt"},
		Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementExempt,
			Exempt: &flowcontrolv1.ExemptPriorityLevelConfiguration{
				NominalConcurrencyShares: ptr.To(int32(r.IntN(40))), LendablePercent: ptr.To(int32(r.IntN(101)))}},
	}}
	fmt.Fprintf(&desc, "exempt: shares %d lendable %d%%\n", *pls[0].Spec.Exempt.NominalConcurrencyShares, *pls[0].Spec.Exempt.LendablePercent)
	var fss []*flowcontrolv1.FlowSchema
	for i := range 3 {
		lim := &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: ptr.To(int32(5 + r.IntN(100)))}
		if r.IntN(4) > 0 {
			lim.LendablePercent = ptr.To(int32(r.IntN(101)))
		}
		if r.IntN(4) > 0 {
			lim.BorrowingLimitPercent = ptr.To(int32(r.IntN(300)))
		}
		if r.IntN(4) == 0 {
			lim.LimitResponse.Type = flowcontrolv1.LimitResponseTypeReject
		} else {
			q := int32(1 + r.IntN(64))
			lim.LimitResponse = flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue,
				Queuing: &flowcontrolv1.QueuingConfiguration{Queues: q, HandSize: min(q, int32(1+r.IntN(6))), QueueLengthLimit: int32(1 + r.IntN(50))}}
		}
		name := fmt.Sprintf("level-%d", i)
		pl := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited, Limited: lim}}
		apf.DefaultPriorityLevel(pl)
		if el := apf.ValidatePriorityLevel(pl); len(el) > 0 {
			t.Fatalf("generated an invalid level: %v", el.ToAggregate())
		}
		pls = append(pls, pl)
		fmt.Fprintf(&desc, "%s: shares %d lendable %v borrowing %v response %+v\n", name, *lim.NominalConcurrencyShares,
			deref(lim.LendablePercent), deref(lim.BorrowingLimitPercent), lim.LimitResponse)
		fs := &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: flowcontrolv1.FlowSchemaSpec{
				PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: name},
				MatchingPrecedence:         int32(100 + i),
				Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
					Subjects: []flowcontrolv1.Subject{{Kind: flowcontrolv1.SubjectKindGroup, Group: &flowcontrolv1.GroupSubject{Name: fmt.Sprintf("team-%d", i)}}},
					ResourceRules: []flowcontrolv1.ResourcePolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"},
						Resources: []string{"*"}, Namespaces: []string{"*"}, ClusterScope: true}},
				}},
			}}
		switch r.IntN(3) {
		case 1:
			fs.Spec.DistinguisherMethod = &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType}
		case 2:
			fs.Spec.DistinguisherMethod = &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByNamespaceType}
		}
		fss = append(fss, fs)
	}
	return apf.NewConfig(fss, pls, nil), desc.String()
}

func deref(p *int32) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// randomConfigWorkload is a workload for randomConfig: clients of the
// three teams (several users and namespaces), exempt and catch-all
// traffic.
func randomConfigWorkload(r *rand.Rand, seed uint64) string {
	var b strings.Builder
	duration := 20 + r.IntN(40)
	fmt.Fprintf(&b, "kind: APFWorkload\nserverConcurrencyLimit: %d\nduration: %ds\nseed: %d\nqueueWaitLimit: %dms\nclients:\n",
		scl(r, 120), duration, seed, 500+r.IntN(6000))
	for i := range 2 + r.IntN(6) {
		var who string
		switch k := r.IntN(8); {
		case k == 0:
			who = `user: root, groups: [system:masters], verb: get, resource: nodes`
		case k == 1:
			who = `user: "system:anonymous", groups: [system:unauthenticated], verb: get, nonResourceURL: /healthz`
		default:
			who = fmt.Sprintf(`user: u%d, groups: [team-%d], verb: list, resource: pods, namespace: ns%d`, r.IntN(3), r.IntN(3), r.IntN(3))
		}
		arrival := "constant"
		if r.IntN(3) == 0 {
			arrival = "poisson"
		}
		fmt.Fprintf(&b, "- {name: c%d, %s, rate: %d, arrival: %s, serviceTime: %dms, seats: %d, start: %ds}\n",
			i, who, 5+r.IntN(250), arrival, 10+r.IntN(400), seats(r), r.IntN(duration*2/3))
	}
	return b.String()
}

// TestDifferentialRandomConfig replays generated workloads on generated
// configurations (lendable and borrowing limits, exempt shares,
// rejecting levels) through the upstream controller and kauth.
func TestDifferentialRandomConfig(t *testing.T) {
	for seed := range uint64(*randomWorkloads) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0x636f6e666967))
			cfg, desc := randomConfig(t, r)
			src := randomConfigWorkload(r, seed)
			w, err := apf.ParseWorkload(fmt.Sprintf("random-config-%d.yaml", seed), []byte(src))
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			compareRuns(t, w, cfg, desc+src)
		})
	}
}
