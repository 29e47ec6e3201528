// Command portal is the Lambda function serving the operations dashboard
// (/_/op-dashboard) and the Key Rotation API's UI routes (/profile,
// /no-access-callback), with their assets embedded in the binary.
package main

import (
	"identityservice/shared/lambdafn"
	"identityservice/shared/portal"
)

func main() { lambdafn.Main(portal.Routes) }
