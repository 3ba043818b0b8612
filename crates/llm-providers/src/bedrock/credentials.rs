//! AWS credentials and region, found the way boto3 / LiteLLM look for them: the deployment's
//! static keys, then the environment, then a profile of the shared credentials file.
//!
//! The credentials file is a tiny INI (`[profile]` sections of `key = value` lines), read by
//! hand rather than through the AWS SDK's config loader, which would pull in far more than
//! this needs. SSO, process and instance-metadata credentials are not supported.

use std::path::PathBuf;

use crate::target::{AwsSettings, Secret};

/// One set of keys.
#[derive(Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .finish()
    }
}

/// Where the environment would be read from; a parameter so tests need no process-wide state.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

/// LiteLLM's default region when none is configured anywhere.
pub const DEFAULT_REGION: &str = "us-west-2";

/// The region: `aws_region_name`, `AWS_REGION`, `AWS_DEFAULT_REGION`, else [`DEFAULT_REGION`].
pub fn region(settings: &AwsSettings, env: &dyn Env) -> String {
    settings
        .region_name
        .clone()
        .filter(|r| !r.is_empty())
        .or_else(|| env.var("AWS_REGION"))
        .or_else(|| env.var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| DEFAULT_REGION.to_owned())
}

/// The credentials to sign with, or `None` when nothing is configured (requests then fail
/// with a 401 naming what to set).
pub fn resolve(settings: &AwsSettings, env: &dyn Env) -> Option<AwsCredentials> {
    if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
        return Some(AwsCredentials {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            session_token: settings.session_token.clone(),
        });
    }
    if let Some(profile) = &settings.profile_name {
        return from_file(profile, env);
    }
    if let (Some(id), Some(secret)) = (
        env.var("AWS_ACCESS_KEY_ID"),
        env.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        return Some(AwsCredentials {
            access_key_id: id,
            secret_access_key: Secret::new(secret),
            session_token: env.var("AWS_SESSION_TOKEN").map(Secret::new),
        });
    }
    let profile = env
        .var("AWS_PROFILE")
        .unwrap_or_else(|| "default".to_owned());
    from_file(&profile, env)
}

fn credentials_path(env: &dyn Env) -> Option<PathBuf> {
    env.var("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| {
            env.var("HOME")
                .map(|h| PathBuf::from(h).join(".aws/credentials"))
        })
}

fn from_file(profile: &str, env: &dyn Env) -> Option<AwsCredentials> {
    let text = std::fs::read_to_string(credentials_path(env)?).ok()?;
    parse_profile(&text, profile)
}

/// The keys of `[profile]` in a credentials file's text.
pub fn parse_profile(text: &str, profile: &str) -> Option<AwsCredentials> {
    let mut in_section = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            // ~/.aws/config writes `[profile name]`; accept it in either file.
            let name = name.strip_prefix("profile ").map_or(name, str::trim);
            in_section = name == profile;
            continue;
        }
        if !in_section {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().to_owned();
            match key.trim().to_ascii_lowercase().as_str() {
                "aws_access_key_id" => id = Some(value),
                "aws_secret_access_key" => secret = Some(value),
                "aws_session_token" => token = Some(value),
                _ => {}
            }
        }
    }
    Some(AwsCredentials {
        access_key_id: id?,
        secret_access_key: Secret::new(secret?),
        session_token: token.map(Secret::new),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Vars(HashMap<&'static str, String>);

    /// Environment variables of one case.
    type VarList = Vec<(&'static str, &'static str)>;

    impl Env for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    const FILE: &str = "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n\
                        # comment\n[work]\naws_access_key_id=AKIDWORK\naws_secret_access_key=s2\naws_session_token = tok\n";

    fn resolved(
        settings: AwsSettings,
        vars: &[(&'static str, &str)],
    ) -> Option<(String, String, Option<String>)> {
        let dir = std::env::temp_dir().join(format!("bedrock-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials");
        std::fs::write(&file, FILE).unwrap();
        let mut map: HashMap<&'static str, String> =
            vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        map.entry("AWS_SHARED_CREDENTIALS_FILE")
            .or_insert_with(|| file.display().to_string());
        resolve(&settings, &Vars(map)).map(|c| {
            (
                c.access_key_id,
                c.secret_access_key.expose().to_owned(),
                c.session_token.map(|t| t.expose().to_owned()),
            )
        })
    }

    fn keys(
        id: &str,
        secret: &str,
        token: Option<&str>,
    ) -> Option<(String, String, Option<String>)> {
        Some((id.into(), secret.into(), token.map(str::to_owned)))
    }

    #[test]
    fn finds_credentials_in_order() {
        let static_keys = AwsSettings {
            access_key_id: Some("AKIDSTATIC".into()),
            secret_access_key: Some(Secret::new("s0")),
            session_token: Some(Secret::new("t0")),
            ..AwsSettings::default()
        };
        let profile = AwsSettings {
            profile_name: Some("work".into()),
            ..AwsSettings::default()
        };
        let env_keys = [
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "se"),
        ];
        let cases: Vec<(AwsSettings, VarList, _)> = vec![
            (
                static_keys,
                env_keys.to_vec(),
                keys("AKIDSTATIC", "s0", Some("t0")),
            ),
            (
                profile,
                env_keys.to_vec(),
                keys("AKIDWORK", "s2", Some("tok")),
            ),
            (
                AwsSettings::default(),
                env_keys.to_vec(),
                keys("AKIDENV", "se", None),
            ),
            (
                AwsSettings::default(),
                vec![
                    ("AWS_ACCESS_KEY_ID", "A"),
                    ("AWS_SECRET_ACCESS_KEY", "B"),
                    ("AWS_SESSION_TOKEN", "C"),
                ],
                keys("A", "B", Some("C")),
            ),
            (
                AwsSettings::default(),
                vec![],
                keys("AKIDDEFAULT", "s1", None),
            ),
            (
                AwsSettings::default(),
                vec![("AWS_PROFILE", "work")],
                keys("AKIDWORK", "s2", Some("tok")),
            ),
            (
                AwsSettings::default(),
                vec![("AWS_PROFILE", "nosuch")],
                None,
            ),
            (
                AwsSettings::default(),
                vec![("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")],
                None,
            ),
        ];
        for (settings, vars, expected) in cases {
            assert_eq!(resolved(settings, &vars), expected, "{vars:?}");
        }
    }

    #[test]
    fn picks_the_region() {
        let named = AwsSettings {
            region_name: Some("eu-west-1".into()),
            ..AwsSettings::default()
        };
        let cases: Vec<(AwsSettings, VarList, &str)> = vec![
            (named, vec![("AWS_REGION", "us-east-2")], "eu-west-1"),
            (
                AwsSettings::default(),
                vec![("AWS_REGION", "us-east-2"), ("AWS_DEFAULT_REGION", "x")],
                "us-east-2",
            ),
            (
                AwsSettings::default(),
                vec![("AWS_DEFAULT_REGION", "ap-south-1")],
                "ap-south-1",
            ),
            (AwsSettings::default(), vec![], DEFAULT_REGION),
        ];
        for (settings, vars, expected) in cases {
            let env = Vars(vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect());
            assert_eq!(region(&settings, &env), expected);
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let creds = parse_profile(FILE, "work").unwrap();
        let shown = format!("{creds:?}");
        assert_eq!(shown.matches("[REDACTED]").count(), 2, "{shown}");
        assert!(
            !shown.contains("\"s2\"") && !shown.contains("\"tok\""),
            "{shown}"
        );
    }
}
