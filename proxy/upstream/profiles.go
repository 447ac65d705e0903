package upstream

import (
	"github.com/bogdanfinn/fhttp/http2"
	"github.com/bogdanfinn/tls-client/profiles"
	tls "github.com/bogdanfinn/utls"
)

// codexCipherSuites is the cipher list of the Codex CLI's rustls 0.23
// ClientHello (docs/protocol.md §2), in wire order.
var codexCipherSuites = []uint16{
	tls.TLS_AES_256_GCM_SHA384,
	tls.TLS_AES_128_GCM_SHA256,
	tls.TLS_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.FAKE_TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
}

// codexSignatureSchemes is rustls's (aws-lc-rs provider) signature_algorithms
// list, ML-DSA last.
var codexSignatureSchemes = []tls.SignatureScheme{
	tls.ECDSAWithP384AndSHA384,
	tls.ECDSAWithP256AndSHA256,
	tls.ECDSAWithP521AndSHA512,
	tls.Ed25519,
	tls.PSSWithSHA512,
	tls.PSSWithSHA384,
	tls.PSSWithSHA256,
	tls.PKCS1WithSHA512,
	tls.PKCS1WithSHA384,
	tls.PKCS1WithSHA256,
	tls.SignatureScheme(0x0904), // ML-DSA-44
	tls.SignatureScheme(0x0905), // ML-DSA-65
	tls.SignatureScheme(0x0906), // ML-DSA-87
}

// codexHelloSpec returns the Codex CLI's rustls ClientHello. The extension
// order written here is record A's; tls-client shuffles it per connection
// (WithRandomTLSExtensionOrder), as rustls does. It has no pre_shared_key
// extension, so tls-client keeps no session cache and never resumes, which
// matches the CLI (0 of 108 captured connections resumed).
func codexHelloSpec() (tls.ClientHelloSpec, error) {
	return tls.ClientHelloSpec{
		CipherSuites:       append([]uint16(nil), codexCipherSuites...),
		CompressionMethods: []byte{tls.CompressionNone},
		Extensions: []tls.TLSExtension{
			&tls.SignatureAlgorithmsExtension{
				SupportedSignatureAlgorithms: append([]tls.SignatureScheme(nil), codexSignatureSchemes...),
			},
			&tls.PSKKeyExchangeModesExtension{Modes: []uint8{tls.PskModeDHE}},
			&tls.StatusRequestExtension{},
			&tls.SessionTicketExtension{},
			&tls.SupportedPointsExtension{SupportedPoints: []byte{tls.PointFormatUncompressed}},
			&tls.ExtendedMasterSecretExtension{},
			&tls.KeyShareExtension{KeyShares: []tls.KeyShare{
				{Group: tls.X25519MLKEM768},
				{Group: tls.X25519},
			}},
			&tls.SNIExtension{},
			&tls.SupportedCurvesExtension{Curves: []tls.CurveID{
				tls.X25519MLKEM768,
				tls.X25519,
				tls.CurveP256,
				tls.CurveP384,
			}},
			&tls.SupportedVersionsExtension{Versions: []uint16{
				tls.VersionTLS13,
				tls.VersionTLS12,
			}},
			&tls.ALPNExtension{AlpnProtocols: []string{"h2", "http/1.1"}},
		},
	}, nil
}

// codexProfile is the Codex CLI over rustls and the h2 crate: SETTINGS
// 2:0;4:2097152;5:16384;6:16384, a connection WINDOW_UPDATE of 5177345,
// pseudo-headers m,s,a,p and no priority in HEADERS (a zero PriorityParam
// makes fhttp leave the PRIORITY flag off).
var codexProfile = profiles.NewClientProfile(
	tls.ClientHelloID{
		Client:      "CodexCLI",
		Version:     "rustls-0.23",
		SpecFactory: codexHelloSpec,
	},
	map[http2.SettingID]uint32{
		http2.SettingEnablePush:        0,
		http2.SettingInitialWindowSize: 2097152,
		http2.SettingMaxFrameSize:      16384,
		http2.SettingMaxHeaderListSize: 16384,
	},
	[]http2.SettingID{
		http2.SettingEnablePush,
		http2.SettingInitialWindowSize,
		http2.SettingMaxFrameSize,
		http2.SettingMaxHeaderListSize,
	},
	[]string{":method", ":scheme", ":authority", ":path"},
	5177345,
	nil,
	&http2.PriorityParam{},
	0,
	false,
	nil, nil, 0, nil, false,
)

// chromeProfile is tls-client's chrome_152_PSK (measured identical to
// Chromium 156 on JA3, JA4 and the Akamai hash) with the HEADERS weight Chrome
// uses for fetch requests: 220 on the wire, 219 in the struct.
var chromeProfile = func() profiles.ClientProfile {
	p := profiles.Chrome_152_PSK
	return profiles.NewClientProfile(
		p.GetClientHelloId(),
		p.GetSettings(),
		p.GetSettingsOrder(),
		p.GetPseudoHeaderOrder(),
		p.GetConnectionFlow(),
		p.GetPriorities(),
		&http2.PriorityParam{Exclusive: true, StreamDep: 0, Weight: 219},
		p.GetStreamID(),
		p.GetAllowHTTP(),
		p.GetHttp3Settings(),
		p.GetHttp3SettingsOrder(),
		p.GetHttp3PriorityParam(),
		p.GetHttp3PseudoHeaderOrder(),
		p.GetHttp3SendGreaseFrames(),
	)
}()
