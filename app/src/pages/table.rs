//! The dense table the list pages share (images, history, registries, volumes, a volume's
//! files): a scrolling wrapper, one heading row from the columns given, the rows as children.

use leptos::prelude::*;

/// One column's heading: its text and its class (`num`, `col-created`, …; hidden at phone
/// width by the stylesheet where it says so).
pub type Column = (&'static str, &'static str);

#[component]
pub fn DataTable(
    /// Besides `images`, the dense style's class.
    class: &'static str,
    testid: &'static str,
    columns: Vec<Column>,
    children: Children,
) -> impl IntoView {
    let heads = columns
        .into_iter()
        .map(|(text, class)| view! { <th class=class>{text}</th> })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class=format!("images {class}") data-testid=testid>
                <thead>
                    <tr>{heads}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
