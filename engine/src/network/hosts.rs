//! A container's /etc/hosts: localhost entries, its own address and hostname, and the
//! containers it shares a user-defined network with (by name and short id), as docker's
//! embedded DNS would answer them.

/// One line per peer: its address, then the names it answers to.
pub(crate) fn render(
    hostname: &str,
    own_ip: Option<&str>,
    peers: &[(String, Vec<String>)],
) -> String {
    let mut out = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    out.push_str(&format!("{}\t{hostname}\n", own_ip.unwrap_or("127.0.1.1")));
    for (ip, names) in peers {
        if !names.is_empty() {
            out.push_str(&format!("{ip}\t{}\n", names.join(" ")));
        }
    }
    out
}

/// Replaces the file's content in place (same inode: it is bind-mounted into the container,
/// and a rename would leave the container looking at the old file).
pub(crate) fn rewrite(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?;
    file.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_address_and_peers() {
        let hosts = render(
            "abc",
            Some("172.18.0.2"),
            &[(
                "172.18.0.3".into(),
                vec!["web".into(), "0123456789ab".into()],
            )],
        );
        assert!(hosts.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(hosts.contains("\n172.18.0.2\tabc\n"));
        assert!(hosts.ends_with("172.18.0.3\tweb 0123456789ab\n"));
        assert!(render("abc", None, &[]).contains("127.0.1.1\tabc\n"));
    }
}
