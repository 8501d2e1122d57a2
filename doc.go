// Package axios is an HTTP client with the axios API: instances made with
// [Create], ordered request and response interceptors, axios's error codes.
// The client builds each *http.Request itself and sends it through the
// *http.Client of a resty client, which owns the connections ([Client.Resty]).
//
//	api := axios.Create(axios.Config{BaseURL: "https://api.example.com", Timeout: 5 * time.Second})
//	api.Interceptors.Request.Use(func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
//		cfg.Headers.Set("X-Tenant", "acme")
//		return cfg, nil
//	}, nil)
//	user, err := axios.JSON[User](api.Get(ctx, "/me"))
//
// The sub-package auth adds the interceptor pair that keeps an access token
// fresh, refreshing once however many requests hit 401 at the same moment;
// storage holds its tokens; interceptors has ready-made logging, loading,
// header, status and retry interceptors.
package axios
