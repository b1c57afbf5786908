//! The level each answered request is logged at (handlers::telemetry::finished_level).

use handlers::telemetry::finished_level;

#[test]
fn a_route_not_built_is_not_logged_as_an_error() {
    assert_eq!(finished_level(501), tracing::Level::INFO);
    assert_eq!(finished_level(500), tracing::Level::ERROR);
    assert_eq!(finished_level(503), tracing::Level::ERROR);
    assert_eq!(finished_level(404), tracing::Level::INFO);
    assert_eq!(finished_level(422), tracing::Level::WARN);
    assert_eq!(finished_level(200), tracing::Level::INFO);
}
