//! The "run a container" page: the form (image with local suggestions, name, command, env,
//! ports, volumes, network, limits, restart policy, health check, TTY), errors beside the
//! fields, the equivalent `berth run …` line to copy, and on submit: a pull with its per-layer
//! progress when the image is not here, then create and start, then the container's page
//! with its log streaming.

use crate::auth::use_caller;
use crate::csrf::CsrfClient;
use crate::model::AppError;
use crate::pages::actions::copy_text;
use crate::pages::transfer_view::{start_pull, TransferView};
use crate::progress::Transfer;
use crate::run_form::{check, run_line, Field, FieldError, RunForm};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde::{Deserialize, Serialize};

/// What the form offers to choose from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormChoices {
    /// Local images' names (`busybox:latest`).
    pub images: Vec<String>,
    /// User networks, beside `bridge`, `host` and `none`.
    pub networks: Vec<String>,
}

/// What a submitted form led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RunOutcome {
    Started {
        id: String,
        name: String,
    },
    /// Nothing was created; each error belongs beside its field.
    Invalid {
        errors: Vec<FieldError>,
    },
    /// The image is not here: pull it, then send the form again.
    NeedsPull {
        reference: String,
    },
}

/// The local images and the networks. A GET.
#[server(prefix = "/ui/fn", endpoint = "run_choices", input = GetUrl)]
pub async fn run_choices() -> Result<FormChoices, AppError> {
    let engine = crate::model::engine()?;
    let mut images: Vec<String> = engine
        .images()
        .list()
        .await?
        .into_iter()
        .flat_map(|i| i.repo_tags)
        .collect();
    images.sort();
    let mut networks: Vec<String> = engine
        .networks()
        .find(Default::default())
        .await?
        .into_iter()
        .map(|n| n.name)
        .filter(|n| !matches!(n.as_str(), "bridge" | "host" | "none"))
        .collect();
    networks.sort();
    Ok(FormChoices { images, networks })
}

/// Checks the form with the engine's own parsers, then creates and starts the container.
#[server(
    prefix = "/ui/fn",
    endpoint = "run_container",
    input = Json,
    client = CsrfClient
)]
pub async fn run_container(form: RunForm) -> Result<RunOutcome, AppError> {
    let engine = crate::model::engine()?;
    let options = match ssr::options(&form) {
        Ok(options) => options,
        Err(errors) => return Ok(RunOutcome::Invalid { errors }),
    };
    match engine
        .images()
        .inspect(&options.image)
        .await
        .map_err(AppError::from)
    {
        Ok(_) => {}
        Err(AppError::NotFound(_)) => {
            return Ok(RunOutcome::NeedsPull {
                reference: options.image,
            })
        }
        Err(e) => return Err(e),
    }
    let created = engine.containers().create(options).await?;
    match engine.containers().start(&created.id).await {
        Ok(c) => Ok(RunOutcome::Started {
            id: c.id,
            name: c.name,
        }),
        // docker run leaves the created container too; say so, with the reason.
        Err(e) => Err(match AppError::from(e) {
            AppError::Conflict(m) => AppError::Conflict(format!(
                "Created {}, but it could not start: {m}",
                created.name
            )),
            AppError::InvalidInput(m) => AppError::InvalidInput(format!(
                "Created {}, but it could not start: {m}",
                created.name
            )),
            other => AppError::Engine(format!(
                "Created {}, but it could not start: {other}",
                created.name
            )),
        }),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::run_form::{check, lines, words, Field, FieldError, RunForm};
    use crate::shell_words::split_words;
    use berth_engine::container::restart::RestartPolicyExt;
    use berth_wire::container::health::HealthConfig;
    use berth_wire::container::{CreateOptions, RestartPolicy};

    /// The create request for `form`, or every field's error (the form's own checks, then
    /// the engine's parsers for ports, volumes, sizes, CPUs, restart policy and durations).
    pub fn options(form: &RunForm) -> Result<CreateOptions, Vec<FieldError>> {
        let mut errors = check(form);
        let mut fail = |field: Field, message: String| errors.push(FieldError::new(field, message));
        let ports = words(&form.ports);
        for p in &ports {
            if let Err(e) = berth_engine::network::ports::parse_publish(p) {
                fail(Field::Ports, format!("{p}: {e}"));
            }
        }
        let volumes = lines(&form.volumes);
        for v in &volumes {
            if let Err(e) = berth_engine::volume::mounts::parse_volume_flag(v) {
                fail(Field::Volumes, e.to_string());
            }
        }
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let memory = match text(&form.memory) {
            None => None,
            Some(m) => match berth_engine::units::parse_size(&m) {
                Ok(bytes) if bytes > 0 => Some(bytes),
                Ok(_) => {
                    fail(
                        Field::Memory,
                        "The memory limit is above 0, e.g. 512m.".into(),
                    );
                    None
                }
                Err(e) => {
                    fail(Field::Memory, e.to_string());
                    None
                }
            },
        };
        let cpus = text(&form.cpus).and_then(|c| c.parse::<f64>().ok());
        if let Some(c) = cpus {
            if let Err(e) = berth_engine::units::cpus_to_quota(c) {
                fail(Field::Cpus, e.to_string());
            }
        }
        let restart = text(&form.restart);
        if let Some(r) = &restart {
            if let Err(e) = RestartPolicy::parse(r) {
                fail(Field::Restart, e.to_string());
            }
        }
        let interval = match text(&form.health_interval) {
            None => 0,
            Some(i) => berth_wire::units::parse_go_duration(&i).unwrap_or_else(|e| {
                fail(Field::HealthInterval, e);
                0
            }),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let healthcheck = text(&form.health_cmd).map(|cmd| HealthConfig {
            test: vec!["CMD-SHELL".to_string(), cmd],
            interval,
            ..HealthConfig::default()
        });
        Ok(CreateOptions {
            image: form.image.trim().to_string(),
            name: text(&form.name),
            cmd: split_words(&form.command).unwrap_or_default(),
            env: lines(&form.env),
            memory,
            cpus,
            pids_limit: text(&form.pids_limit).and_then(|p| p.parse().ok()),
            tty: form.tty,
            auto_remove: form.auto_remove,
            volumes,
            restart,
            network: text(&form.network),
            publish: ports,
            healthcheck,
            ..CreateOptions::default()
        })
    }
}

/// The error shown beside `field`, if any.
fn error_for(errors: &[FieldError], field: Field) -> Option<String> {
    let messages: Vec<&str> = errors
        .iter()
        .filter(|e| e.field == field)
        .map(|e| e.message.as_str())
        .collect();
    (!messages.is_empty()).then(|| messages.join(" "))
}

#[component]
pub fn RunPage() -> impl IntoView {
    let can_operate = use_caller().can_operate();
    view! {
        <Title text="Run a container · berth"/>
        <p class="crumbs">
            <a href="/containers">"← Containers"</a>
        </p>
        <div class="page-head">
            <h1>"Run a container"</h1>
        </div>
        {if can_operate {
            view! { <RunFormView/> }.into_any()
        } else {
            view! {
                <p class="muted" data-testid="run-needs-operator">
                    "Running a container takes the operator role."
                </p>
            }
                .into_any()
        }}
    }
}

#[component]
fn RunFormView() -> impl IntoView {
    let query = use_query_map();
    let form = RwSignal::new(RunForm {
        image: query.read_untracked().get("image").unwrap_or_default(),
        ..RunForm::default()
    });
    let choices = Resource::new(|| (), |_| run_choices());
    let action = ServerAction::<RunContainer>::new();
    let transfer = RwSignal::new(None::<Transfer>);
    // The errors of the last check: the browser's own, then the server's.
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let copied = RwSignal::new(false);
    let navigate = use_navigate();

    let send = move || {
        let current = form.get_untracked();
        let found = check(&current);
        if found.is_empty() {
            action.dispatch(RunContainer { form: current });
        }
        errors.set(found);
    };
    Effect::new(move |_| match action.value().get() {
        Some(Ok(RunOutcome::Started { id, .. })) => {
            navigate(&format!("/containers/{id}"), Default::default())
        }
        Some(Ok(RunOutcome::Invalid { errors: found })) => errors.set(found),
        Some(Ok(RunOutcome::NeedsPull { reference })) => start_pull(reference, transfer),
        _ => {}
    });
    // The pulled image is here now: the same form again.
    let on_done = Callback::new(move |_| send());
    let busy = move || {
        action.pending().get() || transfer.with(|t| t.as_ref().is_some_and(Transfer::running))
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        transfer.set(None);
        send();
    };
    let line = move || form.with(run_line);
    let copy = move |_| copy_text(form.with_untracked(run_line), copied);
    let general_error = move || {
        action.value().get().and_then(Result::err).map(|e| {
            view! {
                <p class="error" role="alert" data-testid="run-error">
                    {e.to_string()}
                </p>
            }
        })
    };
    view! {
        <form class="run-form" data-testid="run-form" on:submit=submit novalidate>
            <fieldset>
                <legend>"Image and command"</legend>
                <TextField form errors copied field=Field::Image label="Image" placeholder="nginx:latest" list="run-images">
                    <datalist id="run-images">
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                choices
                                    .await
                                    .map(|c| c.images)
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|i| view! { <option value=i></option> })
                                    .collect_view()
                            })}
                        </Transition>
                    </datalist>
                    <p class="hint">"Pulled first, with its progress, when it is not on this host."</p>
                </TextField>
                <TextField form errors copied field=Field::Name label="Name" placeholder="web (empty: a generated name)"/>
                <TextField
                    form
                    errors
                    copied
                    field=Field::Command
                    label="Command"
                    placeholder="the image's (quote as in a shell: sh -c 'echo hi')"
                    class="wide"
                />
            </fieldset>
            <fieldset>
                <legend>"Environment, ports and storage"</legend>
                <TextField form errors copied field=Field::Env label="Environment (KEY=value, one per line)" multiline=true/>
                <TextField form errors copied field=Field::Ports label="Published ports (host:container)" placeholder="8080:80" multiline=true/>
                <TextField form errors copied field=Field::Volumes label="Volumes and binds (one per line)" placeholder="data:/var/lib/data" multiline=true/>
                <div class="field">
                    <label for="run-network">"Network"</label>
                    <select
                        id="run-network"
                        data-testid="run-network"
                        on:change=move |ev| form.update(|f| f.network = event_target_value(&ev))
                    >
                        <option value="">"bridge (default)"</option>
                        <option value="host">"host"</option>
                        <option value="none">"none"</option>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                choices
                                    .await
                                    .map(|c| c.networks)
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|n| view! { <option value=n.clone()>{n.clone()}</option> })
                                    .collect_view()
                            })}
                        </Transition>
                    </select>
                    <FieldErrors errors field=Field::Network/>
                </div>
            </fieldset>
            <fieldset>
                <legend>"Limits and lifecycle"</legend>
                <TextField form errors copied field=Field::Memory label="Memory" placeholder="512m" class="small"/>
                <TextField form errors copied field=Field::Cpus label="CPUs" placeholder="0.5" class="small" inputmode="decimal"/>
                <TextField form errors copied field=Field::PidsLimit label="Processes" placeholder="no limit" class="small" inputmode="numeric"/>
                <div class="field small">
                    <label for="run-restart">"Restart"</label>
                    <select
                        id="run-restart"
                        data-testid="run-restart"
                        on:change=move |ev| form.update(|f| f.restart = event_target_value(&ev))
                    >
                        <option value="">"no"</option>
                        <option value="on-failure">"on failure"</option>
                        <option value="always">"always"</option>
                        <option value="unless-stopped">"unless stopped"</option>
                    </select>
                    <FieldErrors errors field=Field::Restart/>
                </div>
                <TextField
                    form
                    errors
                    copied
                    field=Field::HealthCmd
                    label="Health check (run by /bin/sh -c)"
                    placeholder="wget -q -O- http://localhost/ || exit 1"
                />
                <TextField form errors copied field=Field::HealthInterval label="Every" placeholder="30s" class="small"/>
                <div class="checks">
                    <label>
                        <input
                            type="checkbox"
                            data-testid="run-tty"
                            prop:checked=move || form.with(|f| f.tty)
                            on:change=move |ev| form.update(|f| f.tty = event_target_checked(&ev))
                        />
                        " Allocate a terminal (TTY)"
                    </label>
                    <label>
                        <input
                            type="checkbox"
                            data-testid="run-rm"
                            prop:checked=move || form.with(|f| f.auto_remove)
                            on:change=move |ev| {
                                form.update(|f| f.auto_remove = event_target_checked(&ev))
                            }
                        />
                        " Remove it when it exits"
                    </label>
                </div>
            </fieldset>
            <div class="run-line">
                <label for="run-line">"The same from a shell"</label>
                <div class="run-line-row">
                    <code id="run-line" class="mono" data-testid="run-line">{line}</code>
                    <button type="button" class="btn" data-testid="run-copy" on:click=copy>
                        {move || if copied.get() { "Copied" } else { "Copy" }}
                    </button>
                </div>
            </div>
            {general_error}
            <div class="run-submit">
                <button type="submit" class="btn primary" data-testid="run-submit" disabled=busy>
                    {move || if busy() { "Starting…" } else { "Run" }}
                </button>
            </div>
        </form>
        <TransferView state=transfer on_done/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_gathered_per_field() {
        let errors = vec![
            FieldError::new(Field::Ports, "a"),
            FieldError::new(Field::Env, "b"),
            FieldError::new(Field::Ports, "c"),
        ];
        assert_eq!(error_for(&errors, Field::Ports).as_deref(), Some("a c"));
        assert_eq!(error_for(&errors, Field::Name), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_server_checks_with_the_engines_parsers_and_builds_the_request() {
        let form = RunForm {
            image: "busybox".into(),
            ports: "8080:80 99999:80".into(),
            volumes: "data:/data\nrelative:path".into(),
            memory: "lots".into(),
            restart: "sometimes".into(),
            health_cmd: "true".into(),
            health_interval: "often".into(),
            ..RunForm::default()
        };
        let errors = ssr::options(&form).unwrap_err();
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                Field::Ports,
                Field::Volumes,
                Field::Memory,
                Field::Restart,
                Field::HealthInterval
            ],
            "{errors:?}"
        );
        assert!(errors[0].message.starts_with("99999:80: "), "{errors:?}");

        let form = RunForm {
            image: " busybox ".into(),
            name: "web".into(),
            command: "sh -c 'echo hi'".into(),
            env: "A=1\n\nB=two words".into(),
            ports: "8080:80".into(),
            volumes: "data:/data".into(),
            memory: "64m".into(),
            cpus: "0.5".into(),
            pids_limit: "50".into(),
            restart: "on-failure:3".into(),
            health_cmd: "true".into(),
            health_interval: "5s".into(),
            tty: true,
            ..RunForm::default()
        };
        let options = ssr::options(&form).unwrap();
        assert_eq!(options.image, "busybox");
        assert_eq!(options.name.as_deref(), Some("web"));
        assert_eq!(options.cmd, ["sh", "-c", "echo hi"]);
        assert_eq!(options.env, ["A=1", "B=two words"]);
        assert_eq!(options.publish, ["8080:80"]);
        assert_eq!(options.volumes, ["data:/data"]);
        assert_eq!(options.memory, Some(64 << 20));
        assert_eq!(options.cpus, Some(0.5));
        assert_eq!(options.pids_limit, Some(50));
        assert_eq!(options.restart.as_deref(), Some("on-failure:3"));
        let health = options.healthcheck.unwrap();
        assert_eq!(health.test, ["CMD-SHELL", "true"]);
        assert_eq!(health.interval, 5_000_000_000);
        assert!(options.tty);
    }
}

/// The errors of one field, under it.
#[component]
fn FieldErrors(errors: RwSignal<Vec<FieldError>>, field: Field) -> impl IntoView {
    move || {
        errors.with(|e| error_for(e, field)).map(|message| {
            view! {
                <p class="field-error" role="alert" data-testid=format!("error-{}", field.as_str())>
                    {message}
                </p>
            }
        })
    }
}

/// One typed field of the form: its label, the input (a textarea when `multiline`) bound to
/// the form's text for `field`, what `children` add (suggestions, a hint) and its errors.
#[component]
fn TextField(
    form: RwSignal<RunForm>,
    errors: RwSignal<Vec<FieldError>>,
    /// Set back to false on any edit (the copied line is no longer the one shown).
    copied: RwSignal<bool>,
    field: Field,
    label: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] multiline: bool,
    /// `small` or `wide` beside `field`.
    #[prop(optional)]
    class: &'static str,
    #[prop(optional)] inputmode: &'static str,
    /// A `<datalist>` id.
    #[prop(optional)]
    list: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let id = format!("run-{}", field.as_str().replace('_', "-"));
    let testid = id.clone();
    let value = move || {
        form.with(|f| {
            let mut f = f.clone();
            f.text_mut(field).map(|t| t.clone()).unwrap_or_default()
        })
    };
    let input = move |ev: leptos::ev::Event| {
        copied.set(false);
        let text = event_target_value(&ev);
        form.update(|f| {
            if let Some(t) = f.text_mut(field) {
                *t = text;
            }
        });
    };
    let control = if multiline {
        view! {
            <textarea
                id=id.clone()
                class="mono"
                rows="3"
                placeholder=placeholder
                spellcheck="false"
                data-testid=testid
                prop:value=value
                on:input=input
            ></textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                id=id.clone()
                class="mono"
                placeholder=placeholder
                autocomplete="off"
                spellcheck="false"
                inputmode=(!inputmode.is_empty()).then_some(inputmode)
                list=(!list.is_empty()).then_some(list)
                data-testid=testid
                prop:value=value
                on:input=input
            />
        }
        .into_any()
    };
    view! {
        <div class=format!("field {class}")>
            <label for=id>{label}</label>
            {control}
            {children.map(|c| c())}
            <FieldErrors errors field/>
        </div>
    }
}
