//! The user's part of the authorization-code flow, driven headlessly the way
//! a person would click through it (no JSON approve endpoint exists): follow
//! `/oauth/authorize` to the consent page, sign in on the HTML form with the
//! code from the dev mailbox, then approve or deny with the page's hidden
//! fields (its CSRF token included). The SDK under test only builds the
//! authorization URL and handles the callback.

use crate::web::Web;

/// Follows `authorize_url` as `email` in a fresh browser and submits
/// `decision` (`approve` or `deny`); returns the callback URL the server
/// redirects to.
pub async fn authorize(
    base: &str,
    authorize_url: &str,
    email: &str,
    decision: &str,
) -> Result<String, String> {
    let b = Web::new(base)?;
    let consent = location(&b.get(authorize_url).await?, 302, "authorize")?;
    if !consent.starts_with("/oauth/consent?") {
        return Err(format!(
            "authorize redirected to {consent}, not the consent page"
        ));
    }
    let signin = location(&b.get(&consent).await?, 302, "consent before sign-in")?;
    if !signin.starts_with("/signin?") {
        return Err(format!(
            "consent redirected to {signin}, not the sign-in page"
        ));
    }
    let back = sign_in(&b, &signin, email).await?;
    if back != consent {
        return Err(format!("sign-in returned to {back}, not {consent}"));
    }
    let page = b.get(&consent).await?;
    if page.status != 200 {
        return Err(format!("consent page: HTTP {}: {}", page.status, page.body));
    }
    let mut form = hidden_fields(&page.body)?;
    form.push(("decision".into(), decision.into()));
    location(&b.post_form("/oauth/consent", &form).await?, 302, "consent")
}

/// Signs in through `/signin` and the dev mailbox; returns where the server
/// sends the browser afterwards.
async fn sign_in(b: &Web, signin_path: &str, email: &str) -> Result<String, String> {
    let page = b.get(signin_path).await?;
    let mut form = hidden_fields(&page.body)?;
    form.push(("email".into(), email.into()));
    let verify = location(&b.post_form("/signin", &form).await?, 303, "sign-in")?;
    let page = b.get(&verify).await?;
    let mut form = hidden_fields(&page.body)?;
    form.push(("code".into(), b.mailbox_code(email).await?));
    location(
        &b.post_form("/signin/verify", &form).await?,
        303,
        "sign-in code",
    )
}

/// The `Location` of a redirect with the expected status.
fn location(page: &crate::web::Page, status: u16, what: &str) -> Result<String, String> {
    match page.header("location") {
        Some(to) if page.status == status => Ok(to.to_owned()),
        _ => Err(format!(
            "{what}: expected a {status} redirect, got HTTP {}: {}",
            page.status, page.body
        )),
    }
}

/// The `<input type="hidden">` fields of a page, entities decoded, as a
/// browser submits them.
fn hidden_fields(html: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" name=\"").skip(1) {
        let field = chunk.split_once('"').and_then(|(name, rest)| {
            let (value, _) = rest.strip_prefix(" value=\"")?.split_once('"')?;
            Some((decode(name)?, decode(value)?))
        });
        out.push(field.ok_or("malformed hidden input")?);
    }
    Ok(out)
}

/// Reverses HTML escaping (named and numeric entities).
fn decode(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let (entity, after) = rest[i + 1..].split_once(';')?;
        out.push(match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            n => match n.strip_prefix("#x") {
                Some(hex) => char::from_u32(u32::from_str_radix(hex, 16).ok()?)?,
                None => char::from_u32(n.strip_prefix('#')?.parse().ok()?)?,
            },
        });
        rest = after;
    }
    out.push_str(rest);
    Some(out)
}
