package admission

import (
	"context"
	"errors"

	"k8s.io/apiserver/pkg/admission"
)

// alwaysAdmit is kube-apiserver's AlwaysAdmit: it admits everything.
type alwaysAdmit struct{}

func (alwaysAdmit) Handles(admission.Operation) bool { return true }

func (alwaysAdmit) Admit(context.Context, admission.Attributes, admission.ObjectInterfaces) error {
	return nil
}

func (alwaysAdmit) Validate(context.Context, admission.Attributes, admission.ObjectInterfaces) error {
	return nil
}

// alwaysDeny is kube-apiserver's AlwaysDeny: it refuses every write with
// its message.
type alwaysDeny struct{}

func (alwaysDeny) Handles(admission.Operation) bool { return true }

func (alwaysDeny) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	return admission.NewForbidden(a, errors.New("admission control is denying all modifications"))
}

func (alwaysDeny) Validate(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	return admission.NewForbidden(a, errors.New("admission control is denying all modifications"))
}
