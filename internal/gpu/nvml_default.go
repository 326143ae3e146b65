//go:build !udmocknvml

package gpu

import "github.com/NVIDIA/go-nvml/pkg/nvml"

// MockNVML reports whether this binary was built with the udmocknvml tag,
// so that Open returns a mock. It is false in every production build.
const MockNVML = false

func defaultInterface() nvml.Interface {
	return nvml.New()
}
