package api

import (
	"context"
	"net/http/httptest"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// FuzzDecodeAndValidate decodes arbitrary bodies as every served kind, in
// every input media type, and runs the kind's strategy and validation on
// whatever decodes: nothing may panic, however odd the object.
func FuzzDecodeAndValidate(f *testing.F) {
	for _, body := range seedBodies(f) {
		f.Add(uint8(0), uint8(0), body)
	}
	f.Add(uint8(3), uint8(1), []byte("apiVersion: v1\nkind: Pod\nspec:\n  containers: [{}]\n"))
	a, err := New(storage.NewMemory(), Hooks{})
	if err != nil {
		f.Fatal(err)
	}
	kinds := a.reg.Kinds()
	media := a.codecs.SupportedMediaTypes()
	ctx := request.WithUser(context.Background(), &user.DefaultInfo{Name: "fuzz"})
	f.Fuzz(func(t *testing.T, kindIndex, mediaIndex uint8, body []byte) {
		k := kinds[int(kindIndex)%len(kinds)]
		info := media[int(mediaIndex)%len(media)]
		for _, validation := range []string{metav1.FieldValidationStrict, metav1.FieldValidationIgnore} {
			obj, err := a.decodeWith(httptest.NewRecorder(), info, k, body, validation)
			if err != nil {
				continue
			}
			if k.Strategy.PrepareForCreate != nil {
				k.Strategy.PrepareForCreate(ctx, obj)
			}
			if k.Strategy.Validate != nil {
				_ = k.Strategy.Validate(obj)
			}
			if k.Strategy.ValidateUpdate != nil {
				_ = k.Strategy.ValidateUpdate(obj, obj.DeepCopyObject())
			}
			for _, sub := range k.Subresources {
				old := obj.DeepCopyObject()
				sub.PrepareForUpdate(ctx, obj, old)
			}
			if k.Row != nil {
				_, _ = k.Table([]runtime.Object{obj}, a.now())
			}
		}
	})
}
