//! `/openapi.json` is generated from the code and every documented operation
//! is a real route (no 404 route-not-found, no 405).

mod common;

#[tokio::test]
async fn every_documented_operation_is_served() {
    let s = common::start().await;
    let (status, doc, _) = s.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for must in [
        "/oauth/introspect",
        "/auth/token/exchange",
        "/v1/api-keys",
        "/v1/apps/{id}/secret",
    ] {
        assert!(paths.contains_key(must), "{must} missing from the document");
    }
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    let mut checked = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "x_missing");
            let (status, body, _) = s.call(&method.to_uppercase(), &concrete, None, None).await;
            let route_missing = status == 404 && body["detail"] == "route not found";
            assert!(
                !route_missing && status != 405,
                "{method} {path}: {status} {body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations documented");
}
