//! A cookie-keeping browser that does not follow redirects, for driving the
//! HTML sign-in and consent pages the way a user would (no JavaScript), and
//! helpers for the authorization-code flow on top of it.
#![allow(dead_code)]

use crate::common::TestServer;

/// One response, as a browser sees it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

/// A browser with its own cookie jar.
pub struct Browser {
    client: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            base: base.to_owned(),
        }
    }

    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    pub async fn get(&self, path_or_url: &str) -> Page {
        page(self.client.get(self.url(path_or_url)).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, form: &[(String, String)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let res = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        page(res).await
    }

    /// Signs in as `email` through `/signin` and the dev mailbox, starting
    /// from `path` (a `/signin?...` URL). Returns the final verify response.
    pub async fn sign_in_from(&self, s: &TestServer, path: &str, email: &str) -> Page {
        let form_page = self.get(path).await;
        assert_eq!(form_page.status, 200, "{}", form_page.body);
        let mut form = hidden_fields(&form_page.body);
        form.push(("email".into(), email.into()));
        let sent = self.post("/signin", &form).await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let verify_path = sent.location.unwrap();
        assert!(verify_path.starts_with("/signin/verify?"), "{verify_path}");
        let verify_page = self.get(&verify_path).await;
        assert_eq!(verify_page.status, 200, "{}", verify_page.body);
        let mut form = hidden_fields(&verify_page.body);
        form.push(("code".into(), mailbox_code(s, email).await));
        self.post("/signin/verify", &form).await
    }

    /// A browser signed in as `email`.
    pub async fn signed_in(s: &TestServer, email: &str) -> Browser {
        let b = Browser::new(&s.base);
        let done = b.sign_in_from(s, "/signin", email).await;
        assert_eq!(done.status, 200, "{}", done.body);
        b
    }

    /// Follows `/oauth/authorize` to the consent page (signed in already).
    pub async fn consent_page(&self, authorize_url: &str) -> Page {
        let to_consent = self.get(authorize_url).await;
        assert_eq!(to_consent.status, 302, "{}", to_consent.body);
        let consent = to_consent.location.unwrap();
        assert!(consent.starts_with("/oauth/consent?"), "{consent}");
        let page = self.get(&consent).await;
        assert_eq!(page.status, 200, "{}", page.body);
        page
    }

    /// Approves or denies on the consent page; returns the redirect target.
    pub async fn decide(&self, authorize_url: &str, decision: &str) -> String {
        let page = self.consent_page(authorize_url).await;
        let mut form = hidden_fields(&page.body);
        form.push(("decision".into(), decision.into()));
        let back = self.post("/oauth/consent", &form).await;
        assert_eq!(back.status, 302, "{}", back.body);
        back.location.unwrap()
    }
}

async fn page(res: reqwest::Response) -> Page {
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let set_cookies = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = res.text().await.unwrap();
    Page {
        status,
        location,
        set_cookies,
        body,
    }
}

/// The newest code the dev mailbox holds for `email`.
pub async fn mailbox_code(s: &TestServer, email: &str) -> String {
    let (status, body, _) = s
        .call("GET", &format!("/dev/mailbox?to={email}"), None, None)
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"][0]["code"].as_str().unwrap().to_owned()
}

/// The `<input type="hidden">` fields of a page, as a browser would submit
/// them (entities decoded).
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" name=\"").skip(1) {
        let (name, rest) = chunk.split_once('"').unwrap();
        let rest = rest.strip_prefix(" value=\"").unwrap();
        let (value, _) = rest.split_once('"').unwrap();
        out.push((decode(name), decode(value)));
    }
    out
}

/// Reverses HTML escaping (named and numeric entities) for scraped values.
fn decode(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let (entity, after) = rest[i + 1..].split_once(';').unwrap();
        let ch = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            n if n.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&n[2..], 16).unwrap()).unwrap()
            }
            n => char::from_u32(n[1..].parse().unwrap()).unwrap(),
        };
        out.push(ch);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// One query parameter of `url`.
pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// An authorization URL with exactly these parameters.
pub fn authorize_url(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{base}/oauth/authorize")).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.into()
}

/// A verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let p = sigil::pkce();
    (p.verifier.expose().to_owned(), p.challenge)
}
