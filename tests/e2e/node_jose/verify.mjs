// Verify one JWT access token (RFC 9068) the way a node resource server would, with
// jose's remote JWKS: node verify.mjs JWKS_URI ISSUER AUDIENCE TOKEN
// Prints the verified header and payload as JSON, or {"error": code} with exit status 1.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [jwksUri, issuer, audience, token] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(jwksUri));
try {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    typ: "at+jwt",
    algorithms: ["ES256", "EdDSA"],
  });
  console.log(JSON.stringify({ header: protectedHeader, payload }));
} catch (error) {
  console.log(JSON.stringify({ error: error.code ?? String(error) }));
  process.exit(1);
}
