//! `GET /api/v1/openapi.json`: the OpenAPI 3 document, generated from [`endpoints`] — the one
//! list of every HTTP endpoint — and from the request and answer types themselves (utoipa's
//! `ToSchema` / `IntoParams`), so it cannot drift from the code's types.
//!
//! Adding an endpoint to the document is one line in [`endpoints`], e.g.
//! `post("/api/v1/test-chat", "test chat", "Send a test message").csrf().body::<T>().ok::<R>(),`

use super::admin;
use super::catalog::{Bulk, ImportOptions};
use super::conversations::{AlertFilter, TextInput};
use super::me::{LocalSignIn, Me, SignInOptions};
use super::my_data::DeleteShop;
use super::orders::{HookInput, NewStatus, ReturnFilter};
use super::setup::Instructions;
use crate::http::ErrorBody;
use serde::Serialize;
use shared::catalog::csv_import::{CommitReport, Preview};
use shared::catalog::{
    CatalogItem, Category, CategoryInput, ItemFilter, ItemInput, ItemPatch, Page,
};
use shared::conversations::list::{
    ChangesQuery, ConversationChanges, ConversationFilter, ConversationPage,
};
use shared::conversations::thread::{Thread, ThreadEvent, ThreadQuery};
use shared::conversations::ConversationSummary;
use shared::dashboard::{Overview, RangeQuery};
use shared::delivery_hooks::{DeliveryLogEntry, HookConfig};
use shared::model_settings::{ConnectionTest, ModelSettingsChange, ModelSettingsView};
use shared::orders::{OrderDetail, OrderFilter, OrderSummary, ReturnRequest};
use shared::profile::{Problem, Profile};
use shared::rules::BusinessRules;
use std::sync::OnceLock;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref,
    RefOr, Required, ResponseBuilder, Schema,
};
use utoipa::{IntoParams, ToSchema};
use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

/// The path of the document itself.
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";

/// Every endpoint of the product's HTTP surface: the document is built from this list.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        // Catalog
        get(
            "/api/v1/catalog/items",
            "catalog",
            "List items (search, category, pages)",
        )
        .session()
        .query::<ItemFilter>()
        .ok::<Page<CatalogItem>>(),
        post("/api/v1/catalog/items", "catalog", "Create an item")
            .csrf()
            .body::<ItemInput>()
            .created::<CatalogItem>(),
        post(
            "/api/v1/catalog/items/bulk",
            "catalog",
            "Save many item changes at once (all or nothing)",
        )
        .csrf()
        .body::<Bulk>()
        .ok::<ItemsAnswer>(),
        get("/api/v1/catalog/items/{id}", "catalog", "One item")
            .session()
            .ok::<CatalogItem>(),
        patch("/api/v1/catalog/items/{id}", "catalog", "Change an item")
            .csrf()
            .body::<ItemPatch>()
            .ok::<CatalogItem>(),
        delete("/api/v1/catalog/items/{id}", "catalog", "Delete an item")
            .csrf()
            .no_content(),
        get("/api/v1/catalog/categories", "catalog", "List categories")
            .session()
            .ok::<Vec<Category>>(),
        post("/api/v1/catalog/categories", "catalog", "Create a category")
            .csrf()
            .body::<CategoryInput>()
            .created::<Category>(),
        put(
            "/api/v1/catalog/categories/{id}",
            "catalog",
            "Rename or move a category",
        )
        .csrf()
        .body::<CategoryInput>()
        .no_content(),
        delete(
            "/api/v1/catalog/categories/{id}",
            "catalog",
            "Delete a category",
        )
        .csrf()
        .no_content(),
        post(
            "/api/v1/catalog/import/preview",
            "catalog",
            "Preview a CSV import (nothing is saved)",
        )
        .csrf()
        .query::<ImportOptions>()
        .raw_body("text/csv")
        .ok::<Preview>(),
        post(
            "/api/v1/catalog/import/commit",
            "catalog",
            "Import a CSV file",
        )
        .csrf()
        .query::<ImportOptions>()
        .raw_body("text/csv")
        .ok::<CommitReport>(),
        get(
            "/api/v1/catalog/export.csv",
            "catalog",
            "Download the catalog as CSV (UTF-8 with BOM)",
        )
        .session()
        .raw("text/csv"),
        // Orders and returns
        get(
            "/api/v1/orders",
            "orders",
            "List orders (status, Asia/Amman dates, customer)",
        )
        .session()
        .query::<OrderFilter>()
        .ok::<Page<OrderSummary>>(),
        get(
            "/api/v1/orders/export.csv",
            "orders",
            "Download orders as CSV",
        )
        .session()
        .query::<OrderFilter>()
        .raw("text/csv"),
        get(
            "/api/v1/orders/{id}",
            "orders",
            "One order with items and history",
        )
        .session()
        .ok::<OrderDetail>(),
        post(
            "/api/v1/orders/{id}/status",
            "orders",
            "Move an order to its next status",
        )
        .csrf()
        .body::<NewStatus>()
        .ok::<OrderDetail>(),
        get("/api/v1/returns", "orders", "List return requests")
            .session()
            .query::<ReturnFilter>()
            .ok::<Vec<ReturnRequest>>(),
        get("/api/v1/returns/{id}", "orders", "One return request")
            .session()
            .ok::<ReturnRequest>(),
        post(
            "/api/v1/returns/{id}/status",
            "orders",
            "Decide or progress a return request",
        )
        .csrf()
        .body::<NewStatus>()
        .ok::<ReturnRequest>(),
        // Shop settings
        get(
            "/api/v1/delivery-hook",
            "settings",
            "The delivery hook (the secret is never shown)",
        )
        .session()
        .ok::<HookAnswer>(),
        put(
            "/api/v1/delivery-hook",
            "settings",
            "Set the delivery hook URL and signing secret",
        )
        .csrf()
        .body::<HookInput>()
        .ok::<HookAnswer>(),
        get(
            "/api/v1/delivery-hook/log",
            "settings",
            "Recent deliveries to the hook",
        )
        .session()
        .ok::<Vec<DeliveryLogEntry>>(),
        get(
            "/api/v1/settings/model",
            "settings",
            "The shop's own model settings (the key is never shown)",
        )
        .session()
        .ok::<ModelSettingsView>(),
        put(
            "/api/v1/settings/model",
            "settings",
            "Set, keep (leave out) or clear (null) the own API key, base URL and model",
        )
        .csrf()
        .body::<ModelSettingsChange>()
        .ok::<ModelSettingsView>(),
        post(
            "/api/v1/settings/model/test",
            "settings",
            "Test the model connection, optionally with unsaved values (200 either way)",
        )
        .csrf()
        .optional_body::<ModelSettingsChange>()
        .ok::<ConnectionTest>(),
        get(
            "/api/v1/profile",
            "setup",
            "The business profile (a template for a new shop)",
        )
        .session()
        .ok::<ProfileAnswer>(),
        put(
            "/api/v1/profile",
            "setup",
            "Save the business profile as YAML (application/yaml) or JSON",
        )
        .csrf()
        .body::<Profile>()
        .also_raw_body("application/yaml")
        .ok::<ProfileAnswer>(),
        get("/api/v1/ai-instructions", "setup", "The AI instructions")
            .session()
            .ok::<InstructionsAnswer>(),
        put(
            "/api/v1/ai-instructions",
            "setup",
            "Save the AI instructions",
        )
        .csrf()
        .body::<Instructions>()
        .ok::<Instructions>(),
        get(
            "/api/v1/business-rules",
            "setup",
            "Delivery zones and fees, minimum order, hours, handoff",
        )
        .session()
        .ok::<BusinessRules>(),
        put("/api/v1/business-rules", "setup", "Save the business rules")
            .csrf()
            .body::<BusinessRules>()
            .ok::<BusinessRules>(),
        get(
            "/api/v1/onboarding",
            "setup",
            "The wizard's steps, computed from the shop's data",
        )
        .session()
        .ok::<OnboardingAnswer>(),
        post(
            "/api/v1/onboarding/finish",
            "setup",
            "Finish onboarding: the AI goes live",
        )
        .csrf()
        .ok::<OnboardingAnswer>(),
        get(
            "/api/v1/dashboard",
            "dashboard",
            "Overview of a range of Asia/Amman days (default: the last 30)",
        )
        .session()
        .query::<RangeQuery>()
        .ok::<Overview>(),
        // Conversations (the inbox) and alerts
        get(
            "/api/v1/conversations",
            "conversations",
            "The inbox: waiting for a person first, then the latest activity (filters, cursor; no test-chat conversations)",
        )
        .session()
        .query::<ConversationFilter>()
        .ok::<ConversationPage>(),
        get(
            "/api/v1/conversations/changes",
            "conversations",
            "For polling: conversations whose activity changed since the cursor, and the next cursor (merge by id)",
        )
        .session()
        .query::<ChangesQuery>()
        .ok::<ConversationChanges>(),
        get(
            "/api/v1/conversations/{id}",
            "conversations",
            "One conversation with the customer's details and its thread: the latest events, oldest first (before= for older)",
        )
        .session()
        .query::<ThreadQuery>()
        .ok::<Thread>(),
        post(
            "/api/v1/conversations/{id}/takeover",
            "conversations",
            "Take over from the AI: the AI pauses for this conversation",
        )
        .csrf()
        .ok::<ConversationSummary>(),
        post(
            "/api/v1/conversations/{id}/handback",
            "conversations",
            "Hand the conversation back to the AI (nobody is waiting for a person any more)",
        )
        .csrf()
        .ok::<ConversationSummary>(),
        post(
            "/api/v1/conversations/{id}/reply",
            "conversations",
            "Answer as a person — 201: inside 24 h a normal message, 24 h–7 days with the HUMAN_AGENT tag, later 422 window_closed; pauses the AI",
        )
        .csrf()
        .body::<TextInput>()
        .created::<ThreadEvent>(),
        post(
            "/api/v1/conversations/{id}/read",
            "conversations",
            "Mark the conversation read (unread_count 0)",
        )
        .csrf()
        .no_content(),
        post(
            "/api/v1/conversations/{id}/close",
            "conversations",
            "Close the conversation (a new customer message opens it again)",
        )
        .csrf()
        .ok::<ConversationSummary>(),
        post(
            "/api/v1/conversations/{id}/reopen",
            "conversations",
            "Reopen a closed conversation",
        )
        .csrf()
        .ok::<ConversationSummary>(),
        post(
            "/api/v1/conversations/{id}/notes",
            "conversations",
            "Add an internal note — 201 (never sent to the customer)",
        )
        .csrf()
        .body::<TextInput>()
        .created::<ThreadEvent>(),
        get(
            "/api/v1/alerts",
            "alerts",
            "The shop's alerts, newest first (?state=open, the default, or all)",
        )
        .session()
        .query::<AlertFilter>()
        .ok::<AlertsAnswer>(),
        post("/api/v1/alerts/{id}/read", "alerts", "Mark an alert read")
            .csrf()
            .no_content(),
        // My data
        get(
            "/api/v1/shop/export",
            "my data",
            "Everything the shop keeps here as a zip (catalog.csv, orders.csv, returns.csv, conversations.json, profile.yaml, business-rules.json, ai-instructions.txt, knowledge.json, README.txt)",
        )
        .session()
        .raw("application/zip"),
        delete(
            "/api/v1/shop",
            "my data",
            "Delete the shop and all its data (confirm = the shop's Instagram handle); clears the session cookie",
        )
        .csrf()
        .body::<DeleteShop>()
        .no_content(),
        // Session and Instagram connection
        get(
            "/api/v1/me",
            "session",
            "The signed-in shop, its connection, alerts and CSRF token",
        )
        .session()
        .ok::<Me>(),
        get(
            "/api/v1/auth/options",
            "session",
            "Which sign-ins this server offers",
        )
        .ok::<SignInOptions>(),
        post(
            "/api/v1/auth/local",
            "session",
            "Local sign-in (only with IGSHOP_ENV=local); sets the session cookie",
        )
        .body::<LocalSignIn>()
        .ok::<LocalSignInAnswer>(),
        post("/api/v1/session/logout", "session", "Sign out")
            .csrf()
            .no_content(),
        post(
            "/api/v1/instagram/resync",
            "session",
            "Fetch recent Instagram conversations again",
        )
        .csrf()
        .ok::<ResyncAnswer>(),
        // Knowledge base
        get("/api/v1/knowledge/documents", "knowledge", "Documents with their status")
            .session()
            .ok::<DocumentsAnswer>(),
        post(
            "/api/v1/knowledge/documents",
            "knowledge",
            "Upload a PDF, DOCX, TXT or MD (multipart: file, title; 20 MB) — 202, read by the worker",
        )
        .csrf()
        .raw_body("multipart/form-data")
        .accepted::<shared::knowledge::documents::Document>(),
        post(
            "/api/v1/knowledge/documents/url",
            "knowledge",
            "Add a web page (fetched by the worker; no private addresses) — 202",
        )
        .csrf()
        .body::<super::knowledge::UrlInput>()
        .accepted::<shared::knowledge::documents::Document>(),
        get("/api/v1/knowledge/documents/{id}", "knowledge", "One document")
            .session()
            .ok::<shared::knowledge::documents::Document>(),
        delete(
            "/api/v1/knowledge/documents/{id}",
            "knowledge",
            "Delete a document: the original, its passages and index entries",
        )
        .csrf()
        .no_content(),
        post(
            "/api/v1/knowledge/documents/{id}/retry",
            "knowledge",
            "Queue a failed document again — 202",
        )
        .csrf()
        .accepted::<shared::knowledge::documents::Document>(),
        get(
            "/api/v1/knowledge/search",
            "knowledge",
            "The passages the agent would find for a question",
        )
        .session()
        .query::<super::knowledge::SearchParams>()
        .ok::<KnowledgeSearchAnswer>(),
        // The agent
        post(
            "/api/v1/test-chat",
            "agent",
            "Talk to the shop's own agent: the same turn as Instagram, nothing sent",
        )
        .csrf()
        .body::<super::test_chat::TestMessage>()
        .ok::<TestChatAnswer>(),
        get(DOCUMENT_PATH, "meta", "This document").ok::<OpenApiDocument>(),
        // Instagram and Meta
        get(
            "/api/instagram/oauth/start",
            "instagram",
            "Redirect to Instagram's consent page (signed, single-use state)",
        )
        .redirect(),
        get(
            "/api/instagram/oauth/callback",
            "instagram",
            "Instagram's redirect back: sign in, then to /onboarding or /",
        )
        .redirect(),
        get(
            "/api/instagram/webhook",
            "instagram",
            "Webhook verification handshake (hub.mode, hub.verify_token, hub.challenge)",
        )
        .raw("text/plain"),
        post(
            "/api/instagram/webhook",
            "instagram",
            "Signed webhook event batch (X-Hub-Signature-256)",
        )
        .raw_body("application/json")
        .ok::<Acknowledged>(),
        post(
            "/api/meta/deauthorize",
            "instagram",
            "Meta deauthorize callback (form field signed_request)",
        )
        .raw_body("application/x-www-form-urlencoded")
        .ok::<Acknowledged>(),
        post(
            "/api/meta/data-deletion",
            "instagram",
            "Meta data deletion callback (form field signed_request)",
        )
        .raw_body("application/x-www-form-urlencoded")
        .ok::<Acknowledged>(),
        get(
            "/api/meta/deletion-status",
            "instagram",
            "Status page of a data deletion request (?code=)",
        )
        .raw("text/html"),
        get(
            "/api/health",
            "operations",
            "Liveness (?probe=live) and readiness of the database, queue and blob store",
        )
        .ok::<Acknowledged>(),
        // Admin console (/api/admin): admin sessions only; writes need the admin csrf_token.
        post("/api/admin/auth/sign-in", "admin", "Admin sign-in (rate limited; locked for 15 minutes after 5 failures): sets the igshop_admin cookie").body::<admin::auth::SignIn>().ok::<admin::auth::AdminMe>(),
        post("/api/admin/auth/sign-out", "admin", "Admin sign-out").admin_csrf().no_content(),
        get("/api/admin/me", "admin", "The signed-in admin and the CSRF token").admin().ok::<admin::auth::AdminMe>(),
        get("/api/admin/licences", "admin", "Licences with expiry, days left and the matching shop; read-only (with CLI commands) without LICENCE_SIGNING_KEY").admin().ok::<admin::licences::LicencesView>(),
        put("/api/admin/licences/{handle}", "admin", "Add or extend a licence: signed and published as the new whitelist.sig (409 read_only with `cli` without a signing key)").admin_csrf().body::<admin::licences::LicenceInput>().ok::<admin::licences::LicenceRow>(),
        delete("/api/admin/licences/{handle}", "admin", "Remove a licence (signed and published)").admin_csrf().no_content(),
        get("/api/admin/tenants", "admin", "A tile per shop (?sort=cost|problems|name)").admin().query::<admin::tenants::TileQuery>().ok::<admin::tenants::TenantTiles>(),
        post("/api/admin/tenants/{id}/disable", "admin", "Disable a shop (no AI replies)").admin_csrf().ok::<admin::tenants::TenantTile>(),
        post("/api/admin/tenants/{id}/enable", "admin", "Enable a disabled shop").admin_csrf().ok::<admin::tenants::TenantTile>(),
        get("/api/admin/tenants/{id}/conversations", "admin", "A shop's conversations, 50 a page (?page=)").admin().query::<admin::tenants::PageQuery>().ok::<admin::tenants::ConversationList>(),
        get("/api/admin/tenants/{id}/conversations/{conversation_id}", "admin", "One conversation, read-only; every view is audited").admin().ok::<admin::tenants::ConversationView>(),
        put("/api/admin/tenants/{id}/budget", "admin", "Set a shop's monthly model budget (warning at 80 %, optional AI pause at 100 %)").admin_csrf().body::<admin::costs::BudgetInput>().ok::<admin::tenants::Budget>(),
        delete("/api/admin/tenants/{id}/budget", "admin", "Remove a shop's budget").admin_csrf().no_content(),
        get("/api/admin/costs", "admin", "Cost per shop per day, totals per model and the price table (?from=&to=, Asia/Amman days)").admin().query::<shared::dashboard::RangeQuery>().ok::<admin::costs::Costs>(),
        get("/api/admin/alerts", "admin", "Platform alerts: stored (acknowledgeable) and computed now").admin().ok::<admin::alerts::PlatformAlerts>(),
        post("/api/admin/alerts/{id}/acknowledge", "admin", "Close a stored alert").admin_csrf().no_content(),
    ]
}

// Answers the handlers build with `json!`: their shapes, for the document.

#[derive(Serialize, ToSchema)]
pub struct DocumentsAnswer {
    documents: Vec<shared::knowledge::documents::Document>,
}
#[derive(Serialize, ToSchema)]
pub struct KnowledgeSearchAnswer {
    query: String,
    hits: Vec<shared::search::SearchHit>,
}
#[derive(Serialize, ToSchema)]
pub struct TestChatAnswer {
    conversation_id: uuid::Uuid,
    /// The agent's reply (none when it did not answer: see skip_reason).
    reply: Option<String>,
    status: Option<shared::agent::TurnStatus>,
    /// human_mode, licence: …, nothing_pending.
    skip_reason: Option<String>,
    tool_calls: Vec<shared::agent::ToolSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertsAnswer {
    alerts: Vec<shared::alerts::Alert>,
}

#[derive(Serialize, ToSchema)]
pub struct ItemsAnswer {
    items: Vec<CatalogItem>,
}
#[derive(Serialize, ToSchema)]
pub struct HookAnswer {
    hook: Option<HookConfig>,
}
#[derive(Serialize, ToSchema)]
pub struct ProfileAnswer {
    yaml: String,
    profile: Profile,
    is_template: bool,
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
}
#[derive(Serialize, ToSchema)]
pub struct InstructionsAnswer {
    instructions: String,
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
}
#[derive(Serialize, ToSchema)]
pub struct OnboardingStep {
    /// instagram | catalog | knowledge_base | profile
    step: String,
    done: bool,
    optional: Option<bool>,
}
#[derive(Serialize, ToSchema)]
pub struct OnboardingAnswer {
    steps: Vec<OnboardingStep>,
    completed_at: Option<chrono::DateTime<chrono::Utc>>,
    live: bool,
}
#[derive(Serialize, ToSchema)]
pub struct LocalSignInAnswer {
    tenant_id: shared::tenants::TenantId,
    new_shop: bool,
    csrf_token: String,
}
/// What the resync fetched (see `shared::instagram::resync::ResyncReport`).
#[derive(Serialize, ToSchema)]
pub struct ResyncAnswer(shared::instagram::resync::ResyncReport);
/// A JSON object; its fields are described in the operation's summary.
#[derive(Serialize, ToSchema)]
pub struct Acknowledged(serde_json::Map<String, serde_json::Value>);
/// An OpenAPI 3.1 document.
#[derive(Serialize, ToSchema)]
pub struct OpenApiDocument(serde_json::Map<String, serde_json::Value>);
/// A 422 answer naming each wrong field.
#[derive(Serialize, ToSchema)]
pub struct InvalidAnswer {
    error: String,
    message: String,
    problems: Vec<Problem>,
}

// The list's vocabulary.

type Schemas = Vec<(String, RefOr<Schema>)>;
type SchemaOf = fn(&mut Schemas) -> RefOr<Schema>;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// The session cookie.
    Session,
    /// The session cookie and the `X-CSRF-Token` header.
    SessionAndCsrf,
    /// The admin console's cookie (`igshop_admin`).
    Admin,
    /// The admin cookie and the admin session's `X-CSRF-Token`.
    AdminAndCsrf,
}

#[derive(Clone, Copy)]
enum Body {
    None,
    Json {
        schema: SchemaOf,
        required: bool,
        also: Option<&'static str>,
    },
    Raw(&'static str),
}

#[derive(Clone, Copy)]
enum Answer {
    Json(u16, SchemaOf),
    Raw(&'static str),
    NoContent,
    Redirect,
}

/// One endpoint: method, path (`{name}` for a path parameter), and its types.
#[derive(Clone)]
pub struct Endpoint {
    pub method: HttpMethod,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub access: Access,
    query: Option<fn() -> Vec<Parameter>>,
    body: Body,
    answer: Answer,
}

fn endpoint(
    method: HttpMethod,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
) -> Endpoint {
    Endpoint {
        method,
        path,
        tag,
        summary,
        access: Access::Public,
        query: None,
        body: Body::None,
        answer: Answer::Raw("application/json"),
    }
}
fn get(path: &'static str, tag: &'static str, summary: &'static str) -> Endpoint {
    endpoint(HttpMethod::Get, path, tag, summary)
}
fn post(path: &'static str, tag: &'static str, summary: &'static str) -> Endpoint {
    endpoint(HttpMethod::Post, path, tag, summary)
}
fn put(path: &'static str, tag: &'static str, summary: &'static str) -> Endpoint {
    endpoint(HttpMethod::Put, path, tag, summary)
}
fn patch(path: &'static str, tag: &'static str, summary: &'static str) -> Endpoint {
    endpoint(HttpMethod::Patch, path, tag, summary)
}
fn delete(path: &'static str, tag: &'static str, summary: &'static str) -> Endpoint {
    endpoint(HttpMethod::Delete, path, tag, summary)
}

fn schema_of<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    T::schemas(schemas);
    let name = T::name();
    // Named types become components; generic ones (lists, pages) stay inline, since their
    // name leaves out the parameter.
    if std::any::type_name::<T>().contains('<') {
        T::schema()
    } else {
        schemas.push((name.to_string(), T::schema()));
        Ref::from_schema_name(name).into()
    }
}

fn query_of<T: IntoParams>() -> Vec<Parameter> {
    T::into_params(|| Some(ParameterIn::Query))
}

impl Endpoint {
    fn session(mut self) -> Self {
        self.access = Access::Session;
        self
    }
    fn csrf(mut self) -> Self {
        self.access = Access::SessionAndCsrf;
        self
    }
    fn admin(mut self) -> Self {
        self.access = Access::Admin;
        self
    }
    fn admin_csrf(mut self) -> Self {
        self.access = Access::AdminAndCsrf;
        self
    }
    fn query<T: IntoParams>(mut self) -> Self {
        self.query = Some(query_of::<T>);
        self
    }
    fn body<T: ToSchema>(mut self) -> Self {
        self.body = Body::Json {
            schema: schema_of::<T>,
            required: true,
            also: None,
        };
        self
    }
    fn optional_body<T: ToSchema>(mut self) -> Self {
        self.body = Body::Json {
            schema: schema_of::<T>,
            required: false,
            also: None,
        };
        self
    }
    /// The JSON body may also come as this content type (e.g. YAML).
    fn also_raw_body(mut self, content_type: &'static str) -> Self {
        if let Body::Json {
            schema, required, ..
        } = self.body
        {
            self.body = Body::Json {
                schema,
                required,
                also: Some(content_type),
            };
        }
        self
    }
    fn raw_body(mut self, content_type: &'static str) -> Self {
        self.body = Body::Raw(content_type);
        self
    }
    fn ok<T: ToSchema>(mut self) -> Self {
        self.answer = Answer::Json(200, schema_of::<T>);
        self
    }
    fn accepted<T: ToSchema>(mut self) -> Self {
        self.answer = Answer::Json(202, schema_of::<T>);
        self
    }
    fn created<T: ToSchema>(mut self) -> Self {
        self.answer = Answer::Json(201, schema_of::<T>);
        self
    }
    fn no_content(mut self) -> Self {
        self.answer = Answer::NoContent;
        self
    }
    fn redirect(mut self) -> Self {
        self.answer = Answer::Redirect;
        self
    }
    fn raw(mut self, content_type: &'static str) -> Self {
        self.answer = Answer::Raw(content_type);
        self
    }

    /// `get`, `post`, … as in the document.
    pub fn method_name(&self) -> &'static str {
        method_name(&self.method)
    }

    /// `{name}` segments of the path.
    pub fn path_parameters(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
    }

    fn operation(&self, schemas: &mut Schemas) -> utoipa::openapi::path::Operation {
        let text = || {
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        let mut op = OperationBuilder::new()
            .tag(self.tag)
            .summary(Some(self.summary))
            .operation_id(Some(format!(
                "{}_{}",
                method_name(&self.method),
                self.path
                    .trim_start_matches('/')
                    .replace(['/', '.', '-', '{', '}'], "_")
            )));
        for name in self.path_parameters() {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                    )),
            );
        }
        if let Some(query) = self.query {
            op = op.parameters(Some(query()));
        }
        match self.body {
            Body::None => {}
            Body::Json {
                schema,
                required,
                also,
            } => {
                let schema = schema(schemas);
                let mut b = RequestBodyBuilder::new()
                    .required(Some(if required {
                        Required::True
                    } else {
                        Required::False
                    }))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    );
                if let Some(ct) = also {
                    b = b.content(ct, text());
                }
                op = op.request_body(Some(b.build()));
            }
            Body::Raw(ct) => {
                op = op.request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content(ct, text())
                        .build(),
                ));
            }
        }
        op = match self.answer {
            Answer::Json(status, schema) => {
                let schema = schema(schemas);
                op.response(
                    status.to_string(),
                    ResponseBuilder::new().description("Success").content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    ),
                )
            }
            Answer::Raw(ct) => op.response(
                "200",
                ResponseBuilder::new()
                    .description("Success")
                    .content(ct, text()),
            ),
            Answer::NoContent => op.response("204", ResponseBuilder::new().description("Done")),
            Answer::Redirect => op.response(
                "302",
                ResponseBuilder::new().description("Redirect (Location header)"),
            ),
        };
        let error = schema_of::<ErrorBody>(schemas);
        // A page (text/html) answers its errors as a page too.
        let error_type = match self.answer {
            Answer::Raw("text/html") => "text/html",
            _ => "application/json",
        };
        let error_content = || match error_type {
            "text/html" => text(),
            _ => ContentBuilder::new().schema(Some(error.clone())).build(),
        };
        if matches!(self.body, Body::Json { .. }) {
            let invalid = schema_of::<InvalidAnswer>(schemas);
            op = op.response(
                "422",
                ResponseBuilder::new()
                    .description("Invalid input; nothing was changed")
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(invalid)).build(),
                    ),
            );
        }
        op = op.response(
            "4XX",
            ResponseBuilder::new()
                .description("Refused: `{error, message}`")
                .content(error_type, error_content()),
        );
        op = op.response(
            "5XX",
            ResponseBuilder::new()
                .description("Failed on our side: `{error, message}`")
                .content(error_type, error_content()),
        );
        match self.access {
            Access::Public => {}
            Access::Session => {
                op = op.security(SecurityRequirement::new("session", Vec::<String>::new()))
            }
            Access::SessionAndCsrf => {
                op = op.security(
                    SecurityRequirement::new("session", Vec::<String>::new())
                        .add("csrf", Vec::<String>::new()),
                )
            }
            Access::Admin => {
                op = op.security(SecurityRequirement::new(
                    "admin_session",
                    Vec::<String>::new(),
                ))
            }
            Access::AdminAndCsrf => {
                op = op.security(
                    SecurityRequirement::new("admin_session", Vec::<String>::new())
                        .add("csrf", Vec::<String>::new()),
                )
            }
        }
        op.build()
    }
}

fn method_name(m: &HttpMethod) -> &'static str {
    match m {
        HttpMethod::Get => "get",
        HttpMethod::Post => "post",
        HttpMethod::Put => "put",
        HttpMethod::Patch => "patch",
        HttpMethod::Delete => "delete",
        HttpMethod::Head => "head",
        HttpMethod::Options => "options",
        HttpMethod::Trace => "trace",
    }
}

/// The document, built from [`endpoints`].
pub fn document() -> OpenApi {
    let mut schemas = Schemas::new();
    let mut paths = PathsBuilder::new().build();
    for e in endpoints() {
        let op = e.operation(&mut schemas);
        paths.add_path_operation(e.path, vec![e.method.clone()], op);
    }
    let mut components = ComponentsBuilder::new()
        .security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(shared::sessions::COOKIE_NAME, "The session cookie set by sign-in (HttpOnly)"))))
        .security_scheme("admin_session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(shared::admin::COOKIE_NAME, "The admin console's session cookie set by POST /api/admin/auth/sign-in (HttpOnly, Path=/api/admin)"))))
        .security_scheme("csrf", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description("X-CSRF-Token", "Required on every state-changing request: the csrf_token from GET /api/v1/me or sign-in"))));
    schemas.sort_by(|a, b| a.0.cmp(&b.0));
    // Two Rust types with one name would silently share one component (the second one's
    // shape lost): refuse that, so the typed web client never gets a wrong body.
    for pair in schemas.windows(2) {
        let same = |s: &RefOr<Schema>| serde_json::to_string(s).unwrap_or_default();
        assert!(
            pair[0].0 != pair[1].0 || same(&pair[0].1) == same(&pair[1].1),
            "two different types are both named {} in the OpenAPI document; rename one",
            pair[0].0
        );
    }
    schemas.dedup_by(|a, b| a.0 == b.0);
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("IG-Shop-Agent API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("The merchant API (/api/v1), Instagram and Meta callbacks and health. Errors are `{\"error\": code, \"message\": text}`; money is a string with 3 decimals (JOD); dates are Asia/Amman calendar days."))
                .build(),
        )
        .paths(paths)
        .components(Some(components.build()))
        .build()
}

fn document_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        document()
            .to_json()
            .expect("the OpenAPI document serialises")
    })
}

pub fn routes() -> BoxedFilter<(warp::reply::Response,)> {
    warp::path!("api" / "v1" / "openapi.json")
        .and(warp::get())
        .map(|| {
            warp::reply::with_header(document_json(), "content-type", "application/json")
                .into_response()
        })
        .boxed()
}
