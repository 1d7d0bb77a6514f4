module github.com/kauth/kauth/tools/openapi-spec

go 1.26.8
