package cli

import "testing"

func TestPsGPUChosen(t *testing.T) {
	tests := []struct {
		name    string
		o       psGPUOptions
		want    string
		wantErr string
	}{
		{"none", psGPUOptions{}, "", ""},
		{"used", psGPUOptions{used: true}, "--gpu-used", ""},
		{"free", psGPUOptions{free: true}, "--gpu-free", ""},
		{"mine", psGPUOptions{mine: true}, "--gpu-mine", ""},
		{"two", psGPUOptions{used: true, mine: true}, "", "cannot specify both --gpu-used and --gpu-mine"},
		{"three", psGPUOptions{used: true, free: true, mine: true}, "", "cannot specify both --gpu-used and --gpu-free"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.chosen()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("chosen() = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("chosen() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
