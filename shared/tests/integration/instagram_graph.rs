//! The Instagram client against a real HTTP server on 127.0.0.1 standing in for
//! api.instagram.com and graph.instagram.com: what each call sends, how each answer is read,
//! and how each failure is classified — without ever showing a token or the app secret.

use secrecy::{ExposeSecret, SecretString};
use shared::instagram::graph::{
    CardButton, ErrorClass, GraphClient, GraphConfig, GraphError, ProductCard, QuickReply,
    SenderAction, DEFAULT_RATE_LIMIT_BACKOFF, SUBSCRIBED_FIELDS,
};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use warp::Filter;

const TOKEN: &str = "IGAAT0ken-live-5ecret-value-0123456789";
const APP_SECRET: &str = "app-5ecret-f00dfeedcafe";
const ACCOUNT: &str = "17841400000000000123";
const CUSTOMER: &str = "1234567890123456";

// ===== the stand-in server =====

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    query: HashMap<String, String>,
    raw_query: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Recorded {
    fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

struct Scripted {
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
    delay: Duration,
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    script: VecDeque<Scripted>,
}

struct FakeInstagram {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeInstagram {
    async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared_state = state.clone();
        let route = warp::method()
            .and(warp::path::full())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .then(
                move |method: warp::http::Method,
                      path: warp::path::FullPath,
                      raw_query: String,
                      headers: warp::http::HeaderMap,
                      body: bytes::Bytes| {
                    let state = shared_state.clone();
                    async move {
                        let scripted = {
                            let mut state = state.lock().unwrap();
                            state.requests.push(Recorded {
                                method: method.to_string(),
                                path: path.as_str().to_owned(),
                                query: url::form_urlencoded::parse(raw_query.as_bytes())
                                    .into_owned()
                                    .collect(),
                                raw_query,
                                headers: headers
                                    .iter()
                                    .map(|(k, v)| {
                                        (
                                            k.as_str().to_owned(),
                                            v.to_str().unwrap_or_default().to_owned(),
                                        )
                                    })
                                    .collect(),
                                body: String::from_utf8_lossy(&body).into_owned(),
                            });
                            state.script.pop_front()
                        };
                        let scripted = scripted.unwrap_or(Scripted {
                            status: 599,
                            body: "no scripted answer".into(),
                            headers: vec![],
                            delay: Duration::ZERO,
                        });
                        tokio::time::sleep(scripted.delay).await;
                        let mut response = warp::http::Response::builder()
                            .status(scripted.status)
                            .header("content-type", "application/json");
                        for (name, value) in scripted.headers {
                            response = response.header(name, value);
                        }
                        response.body(scripted.body).unwrap()
                    }
                },
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(warp::serve(route).incoming(listener).run());
        FakeInstagram { addr, state }
    }

    fn answer(&self, status: u16, body: impl Into<String>) -> &Self {
        self.answer_with(status, body, &[], Duration::ZERO)
    }

    fn answer_with(
        &self,
        status: u16,
        body: impl Into<String>,
        headers: &[(&str, &str)],
        delay: Duration,
    ) -> &Self {
        self.state.lock().unwrap().script.push_back(Scripted {
            status,
            body: body.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            delay,
        });
        self
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:#?}");
        requests.into_iter().next().unwrap()
    }

    fn client(&self) -> GraphClient {
        client_for(&format!("http://{}", self.addr), Duration::from_secs(5))
    }
}

fn client_for(base: &str, timeout: Duration) -> GraphClient {
    GraphClient::new(GraphConfig {
        app_id: "app-1234".into(),
        app_secret: SecretString::from(APP_SECRET),
        api_base: base.into(),
        graph_base: base.into(),
        graph_version: "v23.0".into(),
        timeout,
    })
    .unwrap()
}

fn token() -> SecretString {
    SecretString::from(TOKEN)
}

fn api_error(code: i64, subcode: Option<i64>, message: &str) -> String {
    let mut error = serde_json::json!({ "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AzB1c2" });
    if let Some(subcode) = subcode {
        error["error_subcode"] = subcode.into();
    }
    serde_json::json!({ "error": error }).to_string()
}

fn assert_no_secrets(error: &GraphError) {
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(TOKEN), "token in {text}");
        assert!(!text.contains(APP_SECRET), "app secret in {text}");
        assert!(!text.contains("0123456789"), "part of the token in {text}");
    }
}

// ===== OAuth =====

#[tokio::test]
async fn exchange_code_posts_the_form_and_reads_the_flat_answer() {
    let ig = FakeInstagram::start().await;
    ig.answer(
        200,
        r#"{"access_token":"IGQWshort","user_id":17841400000000000123,"permissions":"instagram_business_basic,instagram_business_manage_messages"}"#,
    );
    let short = ig
        .client()
        .exchange_code(
            "AQBcode-xyz#_",
            "https://shop.example/api/instagram/callback",
        )
        .await
        .unwrap();

    assert_eq!(short.access_token.expose_secret(), "IGQWshort");
    assert_eq!(short.user_id, "17841400000000000123");
    assert_eq!(
        short.permissions,
        vec![
            "instagram_business_basic",
            "instagram_business_manage_messages"
        ]
    );

    let request = ig.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/oauth/access_token");
    assert!(request.headers["content-type"].starts_with("application/x-www-form-urlencoded"));
    let form = request.form();
    assert_eq!(form["client_id"], "app-1234");
    assert_eq!(form["client_secret"], APP_SECRET);
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(
        form["redirect_uri"],
        "https://shop.example/api/instagram/callback"
    );
    assert_eq!(
        form["code"], "AQBcode-xyz",
        "the trailing #_ is not part of the code"
    );
    assert_eq!(form.len(), 5);
    assert!(request.raw_query.is_empty(), "nothing secret in the URL");
}

#[tokio::test]
async fn exchange_code_reads_the_documented_data_shape() {
    let ig = FakeInstagram::start().await;
    ig.answer(
        200,
        r#"{"data":[{"access_token":"IGQWshort2","user_id":"17841400000000000456","permissions":["instagram_business_basic","instagram_business_manage_messages"]}]}"#,
    );
    let short = ig
        .client()
        .exchange_code("AQBother", "https://shop.example/cb")
        .await
        .unwrap();
    assert_eq!(short.access_token.expose_secret(), "IGQWshort2");
    assert_eq!(short.user_id, "17841400000000000456");
    assert_eq!(
        short.permissions,
        vec![
            "instagram_business_basic",
            "instagram_business_manage_messages"
        ]
    );
    assert_eq!(
        ig.only_request().form()["code"],
        "AQBother",
        "a code without #_ is sent as is"
    );
}

#[tokio::test]
async fn exchange_code_keeps_every_digit_of_ids_beyond_u64() {
    let ig = FakeInstagram::start().await;
    // 98765432109876543210 > u64::MAX = 18446744073709551615
    ig.answer(
        200,
        r#"{"access_token":"a1","user_id":98765432109876543210,"permissions":[]}"#,
    );
    ig.answer(
        200,
        r#"{"access_token":"a2","user_id":"98765432109876543210"}"#,
    );
    ig.answer(
        200,
        r#"{"data":[{"access_token":"a3","user_id":9007199254740993,"permissions":"x"}]}"#,
    );
    let client = ig.client();
    let first = client.exchange_code("c1", "https://cb").await.unwrap();
    let second = client.exchange_code("c2", "https://cb").await.unwrap();
    let third = client.exchange_code("c3", "https://cb").await.unwrap();
    assert_eq!(first.user_id, "98765432109876543210");
    assert!(first.permissions.is_empty());
    assert_eq!(second.user_id, "98765432109876543210");
    assert!(second.permissions.is_empty());
    assert_eq!(third.user_id, "9007199254740993", "2^53 + 1 is not rounded");
    assert_eq!(third.permissions, vec!["x"]);
}

#[tokio::test]
async fn exchange_code_with_an_empty_data_list_is_an_unexpected_answer() {
    let ig = FakeInstagram::start().await;
    ig.answer(200, r#"{"data":[]}"#);
    ig.answer(200, r#"{"token":"nope"}"#);
    let client = ig.client();
    for _ in 0..2 {
        let err = client.exchange_code("c", "https://cb").await.unwrap_err();
        assert!(
            matches!(err, GraphError::UnexpectedResponse { .. }),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Permanent);
    }
    let err = client.exchange_code(" #_", "https://cb").await.unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    assert_eq!(ig.requests().len(), 2);
}

#[tokio::test]
async fn exchange_code_errors_show_neither_the_code_nor_the_secret() {
    let ig = FakeInstagram::start().await;
    ig.answer(
        400,
        format!(r#"{{"error_type":"OAuthException","code":400,"error_message":"Invalid code AQBleaky-code-77 for client_secret {APP_SECRET}"}}"#),
    );
    let err = ig
        .client()
        .exchange_code("AQBleaky-code-77#_", "https://cb")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(err.status(), Some(400));
    assert_no_secrets(&err);
    assert!(!err.to_string().contains("AQBleaky-code-77"), "{err}");
}

#[tokio::test]
async fn long_lived_token_sends_the_exchange_query() {
    let ig = FakeInstagram::start().await;
    ig.answer(
        200,
        r#"{"access_token":"IGAAlong","token_type":"bearer","expires_in":5183944}"#,
    );
    let long = ig
        .client()
        .long_lived_token(&SecretString::from("IGQWshort"))
        .await
        .unwrap();
    assert_eq!(long.access_token.expose_secret(), "IGAAlong");
    assert_eq!(long.token_type, "bearer");
    assert_eq!(long.expires_in, Duration::from_secs(5_183_944));

    let request = ig.only_request();
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path, "/access_token",
        "token endpoints carry no API version"
    );
    assert_eq!(request.query["grant_type"], "ig_exchange_token");
    assert_eq!(request.query["client_secret"], APP_SECRET);
    assert_eq!(request.query["access_token"], "IGQWshort");
    assert_eq!(request.query.len(), 3);
}

#[tokio::test]
async fn refresh_token_sends_the_refresh_query() {
    let ig = FakeInstagram::start().await;
    ig.answer(
        200,
        r#"{"access_token":"IGAArefreshed","expires_in":"5183999"}"#,
    );
    let long = ig.client().refresh_token(&token()).await.unwrap();
    assert_eq!(long.access_token.expose_secret(), "IGAArefreshed");
    assert_eq!(long.token_type, "bearer");
    assert_eq!(long.expires_in, Duration::from_secs(5_183_999));

    let request = ig.only_request();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/refresh_access_token");
    assert_eq!(request.query["grant_type"], "ig_refresh_token");
    assert_eq!(request.query["access_token"], TOKEN);
    assert!(!request.query.contains_key("client_secret"));
}

#[tokio::test]
async fn me_reads_the_account_id_and_username() {
    let ig = FakeInstagram::start().await;
    ig.answer(
        200,
        format!(r#"{{"id":"26000000000000001","user_id":"{ACCOUNT}","username":"amman.sweets"}}"#),
    );
    ig.answer(
        200,
        r#"{"user_id":17841400000000000999,"username":"irbid.shop"}"#,
    );
    let client = ig.client();
    let me = client.me(&token()).await.unwrap();
    assert_eq!(me.user_id, ACCOUNT);
    assert_eq!(me.username, "amman.sweets");
    let me = client.me(&token()).await.unwrap();
    assert_eq!(me.user_id, "17841400000000000999");

    let request = &ig.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/v23.0/me");
    assert_eq!(request.query["fields"], "user_id,username");
    assert_eq!(request.query["access_token"], TOKEN);
}

#[tokio::test]
async fn subscribe_app_subscribes_the_messaging_fields() {
    let ig = FakeInstagram::start().await;
    ig.answer(200, r#"{"success":true}"#);
    ig.answer(200, r#"{"success":false}"#);
    let client = ig.client();
    client.subscribe_app(ACCOUNT, &token()).await.unwrap();
    let err = client.subscribe_app(ACCOUNT, &token()).await.unwrap_err();
    assert!(
        matches!(err, GraphError::UnexpectedResponse { .. }),
        "{err:?}"
    );

    let request = &ig.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("/v23.0/{ACCOUNT}/subscribed_apps"));
    assert_eq!(
        request.query["subscribed_fields"],
        "messages,messaging_seen,message_reactions,messaging_postbacks"
    );
    assert_eq!(request.query["subscribed_fields"], SUBSCRIBED_FIELDS);
    assert_eq!(request.query["access_token"], TOKEN);
}

// ===== messaging =====

fn sent_answer() -> String {
    format!(
        r#"{{"recipient_id":"{CUSTOMER}","message_id":"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx"}}"#
    )
}

fn assert_bearer_post_to_messages(request: &Recorded) {
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("/v23.0/{ACCOUNT}/messages"));
    assert_eq!(request.headers["authorization"], format!("Bearer {TOKEN}"));
    assert!(request.headers["content-type"].starts_with("application/json"));
    assert!(
        !request.raw_query.contains(TOKEN),
        "the token travels in the header only"
    );
}

#[tokio::test]
async fn send_text_posts_recipient_and_text_with_a_bearer_token() {
    let ig = FakeInstagram::start().await;
    ig.answer(200, sent_answer());
    let sent = ig
        .client()
        .send_text(ACCOUNT, &token(), CUSTOMER, "أهلين! شو بتحب تطلب اليوم؟")
        .await
        .unwrap();
    assert_eq!(sent.recipient_id, CUSTOMER);
    assert_eq!(
        sent.message_id,
        "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx"
    );

    let request = ig.only_request();
    assert_bearer_post_to_messages(&request);
    assert_eq!(
        request.json(),
        serde_json::json!({ "recipient": { "id": CUSTOMER }, "message": { "text": "أهلين! شو بتحب تطلب اليوم؟" } })
    );
}

#[tokio::test]
async fn send_text_refuses_more_than_1000_bytes_without_a_request() {
    let ig = FakeInstagram::start().await;
    let client = ig.client();
    let too_long = "ب".repeat(501); // 1002 bytes, 501 characters
    let err = client
        .send_text(ACCOUNT, &token(), CUSTOMER, &too_long)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(!err.is_retryable());
    let err = client
        .send_text(ACCOUNT, &token(), CUSTOMER, "   ")
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    assert!(ig.requests().is_empty());

    ig.answer(200, sent_answer());
    let exactly = "ب".repeat(500);
    assert_eq!(exactly.len(), 1000);
    client
        .send_text(ACCOUNT, &token(), CUSTOMER, &exactly)
        .await
        .unwrap();
    assert_eq!(ig.requests().len(), 1);
}

#[tokio::test]
async fn quick_replies_are_sent_as_text_quick_replies() {
    let ig = FakeInstagram::start().await;
    ig.answer(200, sent_answer());
    let replies = vec![
        QuickReply {
            title: "نعم".into(),
            payload: "CONFIRM_YES".into(),
        },
        QuickReply {
            title: "بدي أغير الطلب".into(),
            payload: "CHANGE_ORDER".into(),
        },
    ];
    ig.client()
        .send_quick_replies(ACCOUNT, &token(), CUSTOMER, "بنأكد الطلب؟", &replies)
        .await
        .unwrap();
    let request = ig.only_request();
    assert_bearer_post_to_messages(&request);
    assert_eq!(
        request.json(),
        serde_json::json!({
            "recipient": { "id": CUSTOMER },
            "message": {
                "text": "بنأكد الطلب؟",
                "quick_replies": [
                    { "content_type": "text", "title": "نعم", "payload": "CONFIRM_YES" },
                    { "content_type": "text", "title": "بدي أغير الطلب", "payload": "CHANGE_ORDER" },
                ]
            }
        })
    );
}

#[tokio::test]
async fn quick_replies_beyond_the_limits_are_refused_without_a_request() {
    let ig = FakeInstagram::start().await;
    let client = ig.client();
    let reply = |title: &str| QuickReply {
        title: title.into(),
        payload: "P".into(),
    };

    let fourteen: Vec<QuickReply> = (0..14).map(|i| reply(&format!("option {i}"))).collect();
    let err = client
        .send_quick_replies(ACCOUNT, &token(), CUSTOMER, "choose", &fourteen)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");

    let long_title = [reply("ok"), reply("abcdefghijklmnopqrstu")]; // 21 characters
    let err = client
        .send_quick_replies(ACCOUNT, &token(), CUSTOMER, "choose", &long_title)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");

    let err = client
        .send_quick_replies(ACCOUNT, &token(), CUSTOMER, "choose", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    let err = client
        .send_quick_replies(
            ACCOUNT,
            &token(),
            CUSTOMER,
            &"x".repeat(1001),
            &[reply("a")],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    assert!(ig.requests().is_empty());

    // The limit counts characters, not bytes: 20 Arabic letters are 40 bytes and pass.
    ig.answer(200, sent_answer());
    let thirteen: Vec<QuickReply> = (0..12)
        .map(|i| reply(&format!("option {i}")))
        .chain([reply(&"ب".repeat(20))])
        .collect();
    client
        .send_quick_replies(ACCOUNT, &token(), CUSTOMER, "choose", &thirteen)
        .await
        .unwrap();
    assert_eq!(
        ig.only_request().json()["message"]["quick_replies"]
            .as_array()
            .unwrap()
            .len(),
        13
    );
}

#[tokio::test]
async fn product_cards_are_sent_as_a_generic_template() {
    let ig = FakeInstagram::start().await;
    ig.answer(200, sent_answer());
    let cards = vec![
        ProductCard {
            title: "كنافة نابلسية".into(),
            subtitle: Some("4.5 JOD".into()),
            image_url: Some("https://cdn.example/knafeh.jpg".into()),
            buttons: vec![
                CardButton::WebUrl {
                    url: "https://shop.example/p/knafeh".into(),
                    title: "التفاصيل".into(),
                },
                CardButton::Postback {
                    title: "اطلب".into(),
                    payload: "ORDER:knafeh".into(),
                },
            ],
        },
        ProductCard {
            title: "Baklava".into(),
            subtitle: None,
            image_url: None,
            buttons: vec![],
        },
    ];
    ig.client()
        .send_product_cards(ACCOUNT, &token(), CUSTOMER, &cards)
        .await
        .unwrap();
    let request = ig.only_request();
    assert_bearer_post_to_messages(&request);
    assert_eq!(
        request.json(),
        serde_json::json!({
            "recipient": { "id": CUSTOMER },
            "message": {
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "generic",
                        "elements": [
                            {
                                "title": "كنافة نابلسية",
                                "subtitle": "4.5 JOD",
                                "image_url": "https://cdn.example/knafeh.jpg",
                                "buttons": [
                                    { "type": "web_url", "url": "https://shop.example/p/knafeh", "title": "التفاصيل" },
                                    { "type": "postback", "title": "اطلب", "payload": "ORDER:knafeh" },
                                ]
                            },
                            { "title": "Baklava" },
                        ]
                    }
                }
            }
        })
    );
}

#[tokio::test]
async fn product_cards_beyond_the_limits_are_refused_without_a_request() {
    let ig = FakeInstagram::start().await;
    let client = ig.client();
    let card = |title: &str| ProductCard {
        title: title.into(),
        subtitle: None,
        image_url: None,
        buttons: vec![],
    };

    let eleven: Vec<ProductCard> = (0..11).map(|i| card(&format!("item {i}"))).collect();
    let err = client
        .send_product_cards(ACCOUNT, &token(), CUSTOMER, &eleven)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    let err = client
        .send_product_cards(ACCOUNT, &token(), CUSTOMER, &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    let button = CardButton::Postback {
        title: "b".into(),
        payload: "p".into(),
    };
    let mut crowded = card("crowded");
    crowded.buttons = vec![button.clone(), button.clone(), button.clone(), button];
    let err = client
        .send_product_cards(ACCOUNT, &token(), CUSTOMER, &[crowded])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    let err = client
        .send_product_cards(ACCOUNT, &token(), CUSTOMER, &[card(" ")])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    assert!(ig.requests().is_empty());

    ig.answer(200, sent_answer());
    let ten: Vec<ProductCard> = (0..10).map(|i| card(&format!("item {i}"))).collect();
    client
        .send_product_cards(ACCOUNT, &token(), CUSTOMER, &ten)
        .await
        .unwrap();
    let request = ig.only_request();
    assert_eq!(
        request.json()["message"]["attachment"]["payload"]["elements"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn sender_actions_post_the_action_name() {
    let ig = FakeInstagram::start().await;
    let client = ig.client();
    let actions = [
        (SenderAction::TypingOn, "typing_on"),
        (SenderAction::TypingOff, "typing_off"),
        (SenderAction::MarkSeen, "mark_seen"),
    ];
    for (action, _) in actions {
        ig.answer(200, format!(r#"{{"recipient_id":"{CUSTOMER}"}}"#));
        client
            .sender_action(ACCOUNT, &token(), CUSTOMER, action)
            .await
            .unwrap();
    }
    let requests = ig.requests();
    assert_eq!(requests.len(), 3);
    for (request, (_, name)) in requests.iter().zip(actions) {
        assert_bearer_post_to_messages(request);
        assert_eq!(
            request.json(),
            serde_json::json!({ "recipient": { "id": CUSTOMER }, "sender_action": name })
        );
    }
}

#[tokio::test]
async fn ids_cannot_escape_their_path_segment() {
    let ig = FakeInstagram::start().await;
    ig.answer(200, sent_answer());
    let client = ig.client();
    client
        .send_text("178/../../oauth", &token(), CUSTOMER, "hi")
        .await
        .unwrap();
    assert_eq!(
        ig.only_request().path,
        "/v23.0/178%2F..%2F..%2Foauth/messages"
    );
    for bad in ["", "..", "."] {
        let err = client
            .send_text(bad, &token(), CUSTOMER, "hi")
            .await
            .unwrap_err();
        assert!(
            matches!(err, GraphError::InvalidRequest(_)),
            "{bad:?}: {err:?}"
        );
    }
    let err = client
        .send_text(ACCOUNT, &token(), " ", "hi")
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest(_)), "{err:?}");
    assert_eq!(ig.requests().len(), 1);
}

// ===== errors =====

struct Case {
    status: u16,
    body: String,
    headers: Vec<(&'static str, &'static str)>,
    class: ErrorClass,
    code: Option<i64>,
    subcode: Option<i64>,
    retry_after: Option<Duration>,
}

fn case(
    status: u16,
    code: i64,
    subcode: Option<i64>,
    class: ErrorClass,
    retry_after: Option<Duration>,
) -> Case {
    Case {
        status,
        body: api_error(
            code,
            subcode,
            &format!("Error validating access token {TOKEN}"),
        ),
        headers: vec![],
        class,
        code: Some(code),
        subcode,
        retry_after,
    }
}

#[tokio::test]
async fn every_error_class_is_recognised_from_real_answers() {
    use ErrorClass::*;
    let minute = Some(DEFAULT_RATE_LIMIT_BACKOFF);
    let secs = |s| Some(Duration::from_secs(s));
    let mut cases = vec![
        case(400, 190, None, InvalidToken, None),
        case(401, 190, Some(460), InvalidToken, None),
        case(400, 10, Some(2534022), OutsideWindow, None),
        case(400, 10, Some(2018278), OutsideWindow, None),
        case(400, 551, None, UserUnavailable, None),
        case(400, 551, Some(1545041), UserUnavailable, None),
        case(400, 200, Some(1545041), UserUnavailable, None),
        case(400, 10, Some(2018108), UserUnavailable, None),
        case(400, 4, None, RateLimited, minute),
        case(400, 17, Some(2207051), RateLimited, minute),
        case(400, 32, None, RateLimited, minute),
        case(400, 613, None, RateLimited, minute),
        case(500, 2, None, Temporary, None),
        case(400, 100, Some(2018001), Permanent, None),
        case(400, 10, None, Permanent, None),
        // Instagram's error object inside a 200 answer is still an error.
        case(200, 2, None, Temporary, None),
    ];
    for (code, wait) in [(4, "30"), (17, "120"), (32, "5"), (613, "3600")] {
        let mut c = case(400, code, None, RateLimited, secs(wait.parse().unwrap()));
        c.headers = vec![("Retry-After", wait)];
        cases.push(c);
    }
    let mut c = case(503, 2, None, Temporary, secs(9));
    c.headers = vec![("Retry-After", "9")];
    cases.push(c);
    let plain = |status: u16,
                 body: &str,
                 headers: Vec<(&'static str, &'static str)>,
                 class,
                 retry_after| Case {
        status,
        body: body.into(),
        headers,
        class,
        code: None,
        subcode: None,
        retry_after,
    };
    cases.push(plain(
        500,
        "<html>Internal Server Error</html>",
        vec![],
        Temporary,
        None,
    ));
    cases.push(plain(502, "", vec![], Temporary, None));
    cases.push(plain(429, "Too Many Requests", vec![], RateLimited, minute));
    cases.push(plain(
        429,
        "Too Many Requests",
        vec![("Retry-After", "7")],
        RateLimited,
        secs(7),
    ));
    cases.push(plain(
        404,
        r#"{"message":"Unknown path"}"#,
        vec![],
        Permanent,
        None,
    ));

    let ig = FakeInstagram::start().await;
    let client = ig.client();
    for (i, c) in cases.iter().enumerate() {
        ig.answer_with(c.status, c.body.clone(), &c.headers, Duration::ZERO);
        let err = client
            .send_text(ACCOUNT, &token(), CUSTOMER, "hi")
            .await
            .unwrap_err();
        let what = format!("case {i}: HTTP {} {} -> {err:?}", c.status, c.body);
        assert_eq!(err.class(), c.class, "{what}");
        assert_eq!(err.code(), c.code, "{what}");
        assert_eq!(err.subcode(), c.subcode, "{what}");
        assert_eq!(err.retry_after(), c.retry_after, "{what}");
        assert_eq!(
            err.is_retryable(),
            matches!(c.class, RateLimited | Temporary),
            "{what}"
        );
        assert_eq!(err.status(), Some(c.status), "{what}");
        assert_eq!(
            shared::instagram::graph::classify(c.status, &c.body),
            c.class,
            "{what}"
        );
        assert_no_secrets(&err);
    }
}

#[tokio::test]
async fn api_errors_keep_instagrams_details_without_the_token() {
    let ig = FakeInstagram::start().await;
    ig.answer(
        400,
        api_error(
            190,
            Some(463),
            &format!("Session has expired for token {TOKEN} (secret {APP_SECRET})"),
        ),
    );
    let err = ig.client().me(&token()).await.unwrap_err();
    match &err {
        GraphError::Api {
            status,
            code,
            subcode,
            kind,
            message,
            fbtrace_id,
            endpoint,
            ..
        } => {
            assert_eq!((*status, *code, *subcode), (400, 190, Some(463)));
            assert_eq!(kind.as_deref(), Some("OAuthException"));
            assert!(
                message.starts_with("Session has expired for token [redacted]"),
                "{message}"
            );
            assert_eq!(fbtrace_id.as_deref(), Some("AzB1c2"));
            assert!(
                endpoint.starts_with("GET http://127.0.0.1:") && endpoint.ends_with("/v23.0/me"),
                "{endpoint}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::InvalidToken);
    assert_eq!(err.retry_after(), None);
    assert_no_secrets(&err);
}

#[tokio::test]
async fn a_closed_port_is_temporary_and_shows_no_query_string() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = client_for(&base, Duration::from_secs(5));

    let errors = vec![
        client.long_lived_token(&token()).await.unwrap_err(),
        client.refresh_token(&token()).await.unwrap_err(),
        client.me(&token()).await.unwrap_err(),
        client
            .recent_conversations(ACCOUNT, &token(), 5)
            .await
            .unwrap_err(),
        client
            .send_text(ACCOUNT, &token(), CUSTOMER, "hi")
            .await
            .unwrap_err(),
        client
            .exchange_code("AQBsecret-code", "https://cb")
            .await
            .unwrap_err(),
    ];
    for err in &errors {
        assert!(
            matches!(
                err,
                GraphError::Network {
                    timed_out: false,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Temporary);
        assert!(err.is_retryable());
        assert_eq!(err.retry_after(), None);
        assert_eq!(err.code(), None);
        assert_no_secrets(err);
        let text = format!("{err} {err:?}");
        assert!(!text.contains("access_token="), "{text}");
        assert!(!text.contains("client_secret"), "{text}");
        assert!(!text.contains('?'), "{text}");
    }
    assert!(
        errors[0].to_string().contains("/access_token"),
        "{}",
        errors[0]
    );
}

#[tokio::test]
async fn a_slow_answer_times_out_as_temporary() {
    let ig = FakeInstagram::start().await;
    ig.answer_with(200, sent_answer(), &[], Duration::from_secs(3));
    let client = client_for(&format!("http://{}", ig.addr), Duration::from_millis(300));
    let err = client.refresh_token(&token()).await.unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Network {
                timed_out: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Temporary);
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_no_secrets(&err);
}

#[tokio::test]
async fn an_unreadable_success_is_not_retried() {
    let ig = FakeInstagram::start().await;
    ig.answer(
        200,
        format!(r#"{{"access_token":{{"nested":"{TOKEN}"}},"user_id":"1"}}"#),
    );
    ig.answer(200, "<html>ok</html>");
    let client = ig.client();
    let err = client
        .exchange_code("code-1", "https://cb")
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::UnexpectedResponse { .. }),
        "{err:?}"
    );
    assert_no_secrets(&err);
    let err = client
        .send_text(ACCOUNT, &token(), CUSTOMER, "hi")
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::UnexpectedResponse { .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Permanent);
}

#[test]
fn the_client_and_its_config_do_not_print_secrets() {
    let client = client_for("http://127.0.0.1:9", Duration::from_secs(1));
    let printed = format!("{client:?}");
    assert!(
        printed.contains("app-1234") && printed.contains("v23.0"),
        "{printed}"
    );
    assert!(!printed.contains(APP_SECRET), "{printed}");
    let config = GraphConfig::new("app-1234", SecretString::from(APP_SECRET));
    assert!(!format!("{config:?}").contains(APP_SECRET));
    assert_eq!(config.graph_base, "https://graph.instagram.com");
    assert_eq!(config.api_base, "https://api.instagram.com");

    let mut bad = GraphConfig::new("a", SecretString::from("s"));
    bad.graph_base = format!("https://graph.example/?access_token={TOKEN}");
    let err = GraphClient::new(bad).unwrap_err();
    assert!(matches!(err, GraphError::Setup(_)), "{err:?}");
    assert_no_secrets(&err);
}

// ===== conversations =====

#[tokio::test]
async fn recent_conversations_are_listed_with_participants() {
    let ig = FakeInstagram::start().await;
    ig.answer(
        200,
        format!(
            r#"{{"data":[
                {{"id":"aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6MQ","updated_time":"2026-11-20T10:15:30+0000",
                  "participants":{{"data":[{{"username":"amman.sweets","id":"{ACCOUNT}"}},{{"username":"lina_j","id":"{CUSTOMER}"}}]}}}},
                {{"id":"aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6Mg","updated_time":"2026-11-19T23:59:59+0000"}}
              ],
              "paging":{{"cursors":{{"after":"QVFIUk"}},"next":"https://graph.instagram.com/v23.0/x/conversations?access_token={TOKEN}&after=QVFIUk"}}}}"#
        ),
    );
    let conversations = ig
        .client()
        .recent_conversations(ACCOUNT, &token(), 25)
        .await
        .unwrap();
    assert_eq!(conversations.len(), 2);
    assert_eq!(conversations[0].id, "aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6MQ");
    assert_eq!(
        conversations[0].updated_time.to_rfc3339(),
        "2026-11-20T10:15:30+00:00"
    );
    assert_eq!(conversations[0].participants.len(), 2);
    assert_eq!(conversations[0].participants[1].id, CUSTOMER);
    assert_eq!(
        conversations[0].participants[1].username.as_deref(),
        Some("lina_j")
    );
    assert!(conversations[1].participants.is_empty());

    let request = ig.only_request();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, format!("/v23.0/{ACCOUNT}/conversations"));
    assert_eq!(request.query["platform"], "instagram");
    assert_eq!(request.query["fields"], "id,updated_time,participants");
    assert_eq!(request.query["limit"], "25");
    assert_eq!(request.query["access_token"], TOKEN);
}

#[tokio::test]
async fn conversation_messages_are_parsed() {
    let ig = FakeInstagram::start().await;
    ig.answer(
        200,
        format!(
            r#"{{"messages":{{"data":[
                {{"id":"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjM","created_time":"2026-11-20T10:15:30+0000",
                  "from":{{"username":"amman.sweets","id":"{ACCOUNT}"}},
                  "to":{{"data":[{{"username":"lina_j","id":"{CUSTOMER}"}}]}},
                  "message":"أكيد، الكنافة 4.5 دينار"}},
                {{"id":"mid-2","created_time":"2026-11-20T10:14:00+0000",
                  "from":{{"username":"lina_j","id":"{CUSTOMER}"}},
                  "to":{{"data":[{{"username":"amman.sweets","id":"{ACCOUNT}"}}]}},
                  "message":"",
                  "attachments":{{"data":[{{"image_data":{{"url":"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1","width":720,"height":1280}}}}]}}}},
                {{"id":"mid-3","created_time":"2026-11-20T10:13:00+0000","to":{{"data":[]}},"message":"orphan"}},
                {{"id":"mid-4","created_time":"2026-11-20T10:12:00+0000",
                  "from":{{"id":17841400000000000777}},"to":{{"id":"{CUSTOMER}"}},"message":"hi"}}
              ],"paging":{{"cursors":{{"after":"x"}}}}}},
              "id":"aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6MQ"}}"#
        ),
    );
    let messages = ig
        .client()
        .conversation_messages("aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6MQ", &token(), 5)
        .await
        .unwrap();
    assert_eq!(
        messages.len(),
        3,
        "the message without a sender is skipped: {messages:#?}"
    );

    assert_eq!(messages[0].mid, "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjM");
    assert_eq!(
        messages[0].created_time.to_rfc3339(),
        "2026-11-20T10:15:30+00:00"
    );
    assert_eq!(messages[0].from_id, ACCOUNT);
    assert_eq!(messages[0].to_id, CUSTOMER);
    assert_eq!(messages[0].text.as_deref(), Some("أكيد، الكنافة 4.5 دينار"));
    assert!(messages[0].attachments.is_empty());

    assert_eq!(messages[1].from_id, CUSTOMER);
    assert_eq!(
        messages[1].text, None,
        "an attachment-only message has no text"
    );
    assert_eq!(messages[1].attachments.len(), 1);
    assert_eq!(
        messages[1].attachments[0]["image_data"]["url"],
        "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"
    );

    assert_eq!(messages[2].mid, "mid-4");
    assert_eq!(messages[2].from_id, "17841400000000000777");
    assert_eq!(messages[2].to_id, CUSTOMER);

    let request = ig.only_request();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/v23.0/aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6MQ");
    assert_eq!(
        request.query["fields"],
        "messages.limit(5){id,created_time,from,to,message,attachments}"
    );
    assert_eq!(request.query["access_token"], TOKEN);
}

#[tokio::test]
async fn a_conversation_without_messages_is_empty() {
    let ig = FakeInstagram::start().await;
    ig.answer(200, r#"{"id":"c1"}"#);
    ig.answer(200, r#"{"messages":{"data":[]},"id":"c2"}"#);
    let client = ig.client();
    assert!(client
        .conversation_messages("c1", &token(), 20)
        .await
        .unwrap()
        .is_empty());
    assert!(client
        .conversation_messages("c2", &token(), 20)
        .await
        .unwrap()
        .is_empty());
}
