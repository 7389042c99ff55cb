//! The pages for people who are not logged in: `/login`, and `/setup` (the first admin, once,
//! with the token the daemon printed in its log). Both are plain HTML forms that the server
//! answers with a redirect, so they work before (or without) the wasm.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What the login page says for `?error=CODE`.
pub fn login_error_text(code: &str) -> &'static str {
    match code {
        "bad_credentials" => "Wrong user name or password.",
        "rate_limited" => "Too many failed attempts — wait a few minutes and try again.",
        "bad_request" => "Enter your user name and your password.",
        _ => "Logging in did not work. Try again.",
    }
}

/// What the setup page says for `?error=CODE`.
pub fn setup_error_text(code: &str) -> &'static str {
    match code {
        "forbidden" => {
            "This setup address is not valid (any more). Use the newest /setup address from the \
             daemon's log."
        }
        "mismatch" => "The two passwords differ. Type the same password twice.",
        "bad_request" => {
            "This user name or password is not accepted. Use letters, digits, dots, dashes or \
             underscores for the name, and a longer password."
        }
        "exists" => "The first admin exists already. Log in instead.",
        _ => "Creating the admin did not work. Try again.",
    }
}

/// The query parameter `name`, empty when absent.
fn query(name: &'static str) -> impl Fn() -> String + Copy {
    let query = use_query_map();
    move || query.with(|q| q.get(name).unwrap_or_default())
}

/// The card both pages sit in: the product's name, a heading, a line under it.
#[component]
fn AuthCard(heading: &'static str, lead: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="auth-screen">
            <section class="auth-card" aria-labelledby="auth-heading">
                <div class="auth-brand">
                    <span class="auth-mark" aria-hidden="true"></span>
                    "berth"
                </div>
                <h1 id="auth-heading">{heading}</h1>
                <p class="auth-lead">{lead}</p>
                {children()}
            </section>
        </div>
    }
}

/// The error under the heading, if the address has one.
fn error_banner(code: String, text: fn(&str) -> &'static str) -> impl IntoView {
    (!code.is_empty()).then(|| {
        view! {
            <p class="error auth-error" role="alert" data-testid="auth-error" data-code=code.clone()>
                {text(&code)}
            </p>
        }
    })
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let error = query("error");
    let next = query("next");
    let next = move || {
        let next = next();
        if next.is_empty() {
            "/".to_string()
        } else {
            next
        }
    };
    view! {
        <Title text="Log in · berth"/>
        <AuthCard heading="Log in" lead="Containers, images and logs of this host.">
            {move || error_banner(error(), login_error_text)}
            <form class="auth-form" method="post" action="/login" data-testid="login-form">
                <input type="hidden" name="next" value=next/>
                <label for="login-username">"User name"</label>
                <input
                    id="login-username"
                    name="username"
                    type="text"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    required
                    autofocus
                />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                />
                <button type="submit" class="btn primary" data-testid="login-submit">
                    "Log in"
                </button>
            </form>
        </AuthCard>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let error = query("error");
    let token = query("token");
    view! {
        <Title text="Create the first admin · berth"/>
        <AuthCard
            heading="Create the first admin"
            lead="This account can do everything, including adding the other users."
        >
            {move || error_banner(error(), setup_error_text)}
            {move || {
                (error() == "exists")
                    .then(|| {
                        view! {
                            <p class="auth-alt">
                                <a href="/login">"Go to the login page"</a>
                            </p>
                        }
                    })
            }}
            {move || {
                (token().is_empty() && error().is_empty())
                    .then(|| {
                        view! {
                            <p class="auth-note" data-testid="setup-no-token">
                                "Open the address with "
                                <code>"/setup?token=…"</code>
                                " that the daemon printed in its log when it started."
                            </p>
                        }
                    })
            }}
            <form class="auth-form" method="post" action="/setup" data-testid="setup-form">
                <input type="hidden" name="token" value=token/>
                <label for="setup-username">"User name"</label>
                <input
                    id="setup-username"
                    name="username"
                    type="text"
                    value="admin"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    required
                />
                <label for="setup-password">"Password"</label>
                <input
                    id="setup-password"
                    name="password"
                    type="password"
                    autocomplete="new-password"
                    required
                    autofocus
                />
                <label for="setup-confirm">"Repeat the password"</label>
                <input
                    id="setup-confirm"
                    name="confirm"
                    type="password"
                    autocomplete="new-password"
                    required
                />
                <button type="submit" class="btn primary" data-testid="setup-submit">
                    "Create admin and log in"
                </button>
            </form>
        </AuthCard>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_has_words() {
        assert_eq!(
            login_error_text("bad_credentials"),
            "Wrong user name or password."
        );
        assert!(login_error_text("rate_limited").contains("wait a few minutes"));
        assert!(setup_error_text("mismatch").contains("differ"));
        assert!(setup_error_text("exists").contains("Log in"));
        assert!(!setup_error_text("something-new").is_empty());
    }
}
