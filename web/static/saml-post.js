// SAML ACS (issue 3): re-post the identity provider's answer from fedgate's
// own origin, where the browser sends the sign-in cookie.
document.getElementById("saml-post").submit();
