module github.com/ann-project/ann/bindings/go

go 1.19
