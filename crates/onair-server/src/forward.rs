//! Forwarding: every published stream can be relayed to `<upstream>/<stream>` (an RTMP CDN or
//! another server) through onair-rtmp's publisher. The relay is a hub subscriber like a player,
//! so a slow upstream skips to keyframes and never slows the publisher; it reconnects every 3 s
//! while the stream is live and ends with it.

use crate::hub::SubscriberKind;
use crate::server::Shared;
use onair_rtmp::{RtmpPublisher, SendQueueConfig, TransportConfig};
use std::sync::Arc;
use std::time::Duration;

/// Starts relaying `name` to `<base>/<name>`.
pub fn spawn(rt: &tokio::runtime::Handle, shared: Arc<Shared>, base: String, name: String) {
    rt.spawn(async move {
        let url = format!("{}/{name}", base.trim_end_matches('/'));
        loop {
            // Subscribe first: the upstream gets the GOP cache and then every tag.
            let Some(mut sub) = shared.hub.subscribe(&name, SubscriberKind::Forward) else {
                return;
            };
            match RtmpPublisher::connect(
                &url,
                &TransportConfig::default(),
                SendQueueConfig::default(),
            )
            .await
            {
                Ok(publisher) => {
                    tracing::info!(stream = %name, %url, "relay connected");
                    while let Some(tag) = sub.rx.recv().await {
                        if let Err(e) = publisher.send(tag.to_flv_tag(tag.timestamp)) {
                            tracing::warn!(stream = %name, %url, "relay failed: {e}");
                            break;
                        }
                    }
                    let _ = publisher.flush(Duration::from_secs(2)).await;
                    let _ = publisher.close().await;
                }
                Err(e) => tracing::warn!(stream = %name, %url, "relay connect failed: {e}"),
            }
            drop(sub);
            tokio::time::sleep(Duration::from_secs(3)).await;
            if shared.hub.live_one(&name).is_none() {
                return;
            }
        }
    });
}
