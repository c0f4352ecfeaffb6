//! `GpuContext`: the wgpu device and queue shared by the engine and the app.

use crate::error::{GpuError, GpuResult};
use std::sync::Arc;

/// A wgpu device and queue, with what the adapter said about itself.
#[derive(Debug)]
pub struct GpuContext {
    /// The device every onair texture lives on.
    pub device: wgpu::Device,
    /// Its queue; the engine's and the app's submissions are ordered on it.
    pub queue: wgpu::Queue,
    /// The adapter (name, driver, backend).
    pub adapter: wgpu::AdapterInfo,
    /// The instance and adapter the device came from, when known: render views make their
    /// window surfaces on them.
    parts: Option<(wgpu::Instance, wgpu::Adapter)>,
}

impl GpuContext {
    /// A headless context on the first Vulkan or GL adapter (lavapipe counts). No adapter is
    /// [`GpuError::NoAdapter`] with a hint on what to install.
    pub fn new() -> GpuResult<Arc<Self>> {
        let instance = wgpu::Instance::new(&wgpu::InstanceDescriptor {
            backends: wgpu::Backends::VULKAN | wgpu::Backends::GL,
            ..Default::default()
        });
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            compatible_surface: None,
            force_fallback_adapter: false,
        }))
        .map_err(|e| {
            GpuError::NoAdapter(format!(
                "no GPU adapter ({e}); on Debian/Ubuntu `apt-get install mesa-vulkan-drivers` \
                 gives a CPU Vulkan driver (lavapipe)"
            ))
        })?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("onair"),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device(format!("{} refused a device: {e}", info.name)))?;
        // A validation error must not abort the app: onair checks what it binds, and anything
        // left is logged.
        device.on_uncaptured_error(Arc::new(|e| tracing::error!("wgpu: {e}")));
        tracing::info!("GPU context on {} ({:?})", info.name, info.backend);
        Ok(Arc::new(Self {
            device,
            queue,
            adapter: info,
            parts: Some((instance, adapter)),
        }))
    }

    /// Wraps the app's own device and queue (e.g. the one its window's surface renders with).
    /// Render views need the instance too: see [`from_parts`](Self::from_parts).
    pub fn from_device(
        device: wgpu::Device,
        queue: wgpu::Queue,
        adapter: wgpu::AdapterInfo,
    ) -> Arc<Self> {
        Arc::new(Self {
            device,
            queue,
            adapter,
            parts: None,
        })
    }

    /// Wraps the app's whole wgpu stack: textures can go to its windows and render views can
    /// draw into its windows with the same device.
    pub fn from_parts(
        instance: wgpu::Instance,
        adapter: wgpu::Adapter,
        device: wgpu::Device,
        queue: wgpu::Queue,
    ) -> Arc<Self> {
        Arc::new(Self {
            device,
            queue,
            adapter: adapter.get_info(),
            parts: Some((instance, adapter)),
        })
    }

    /// The wgpu instance, when this context knows it ([`new`](Self::new),
    /// [`from_parts`](Self::from_parts)).
    pub fn instance(&self) -> Option<&wgpu::Instance> {
        self.parts.as_ref().map(|p| &p.0)
    }

    /// The wgpu adapter, when this context knows it.
    pub fn wgpu_adapter(&self) -> Option<&wgpu::Adapter> {
        self.parts.as_ref().map(|p| &p.1)
    }

    /// `true` on a CPU adapter (lavapipe, llvmpipe, WARP).
    pub fn is_software(&self) -> bool {
        self.adapter.device_type == wgpu::DeviceType::Cpu
    }
}
