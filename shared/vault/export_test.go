package vault

// Test hooks.
var (
	PackToken  = packToken
	EncodePack = encodePack
)

const MaxPackAttempts = maxPackAttempts
