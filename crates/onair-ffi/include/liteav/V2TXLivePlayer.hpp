// onair's LiteAV-compatible C++ API: V2TXLivePlayer with LiteAV's names and signatures,
// header-only over onair's C API. Link with -lonair (pkg-config onair).
//
// Not in onair yet: render views (setRenderView, setRenderRotation, setRenderFillMode)
// answer V2TXLIVE_ERROR_NOT_SUPPORTED; showDebugView does nothing.
#ifndef ONAIR_LITEAV_V2TXLIVEPLAYER_HPP
#define ONAIR_LITEAV_V2TXLIVEPLAYER_HPP

#include <string.h>

#include <vector>

#include "V2TXLiveDef.hpp"
#include "V2TXLivePlayerObserver.hpp"

namespace liteav {

class V2TXLivePlayer {
   public:
    virtual void setObserver(V2TXLivePlayerObserver* observer) = 0;
    virtual int32_t setRenderView(void* view) = 0;
    virtual int32_t setRenderRotation(V2TXLiveRotation rotation) = 0;
    virtual int32_t setRenderFillMode(V2TXLiveFillMode mode) = 0;
    virtual int32_t startPlay(const char* url) = 0;
    virtual int32_t stopPlay() = 0;
    virtual int32_t isPlaying() = 0;
    virtual int32_t pauseAudio() = 0;
    virtual int32_t resumeAudio() = 0;
    virtual int32_t pauseVideo() = 0;
    virtual int32_t resumeVideo() = 0;
    virtual int32_t setPlayoutVolume(int32_t volume) = 0;
    virtual int32_t setCacheParams(float minTime, float maxTime) = 0;
    virtual int32_t switchStream(const char* newUrl) = 0;
    virtual int32_t enableVolumeEvaluation(int32_t intervalMs) = 0;
    virtual int32_t snapshot() = 0;
    virtual int32_t enableObserveVideoFrame(bool enable, V2TXLivePixelFormat pixelFormat, V2TXLiveBufferType bufferType) = 0;
    virtual int32_t enableObserveAudioFrame(bool enable) = 0;
    virtual int32_t enableReceiveSeiMessage(bool enable, int payloadType) = 0;
    virtual void showDebugView(bool isShow) = 0;
    /// `value` is a NUL-terminated string (a number or JSON, as the key wants).
    virtual int32_t setProperty(const char* key, const void* value) = 0;

   protected:
    virtual ~V2TXLivePlayer() {}
};

}  // namespace liteav

namespace onair_liteav_detail {

/// `frame` as LiteAV apps expect it: tightly packed (rows copied into `scratch` when the
/// engine's rows are padded).
inline liteav::V2TXLiveVideoFrame packed(const OnairVideoFrame& frame, std::vector<uint8_t>& scratch) {
    liteav::V2TXLiveVideoFrame out = to_liteav(frame);
    uint32_t w = frame.width, h = frame.height, s = frame.stride;
    if (frame.pixel_format == ONAIR_PIXEL_FORMAT_I420 && s != 0 && s != w) {
        uint32_t cs = (s + 1) / 2, cw = w / 2, ch = h / 2;
        scratch.resize(static_cast<size_t>(w) * h + 2u * cw * ch);
        uint8_t* o = scratch.data();
        const uint8_t* y = frame.data;
        const uint8_t* u = y + static_cast<size_t>(s) * h;
        const uint8_t* v = u + static_cast<size_t>(cs) * ch;
        for (uint32_t r = 0; r < h; r++) memcpy(o + static_cast<size_t>(r) * w, y + static_cast<size_t>(r) * s, w);
        o += static_cast<size_t>(w) * h;
        for (uint32_t r = 0; r < ch; r++) memcpy(o + static_cast<size_t>(r) * cw, u + static_cast<size_t>(r) * cs, cw);
        o += static_cast<size_t>(cw) * ch;
        for (uint32_t r = 0; r < ch; r++) memcpy(o + static_cast<size_t>(r) * cw, v + static_cast<size_t>(r) * cs, cw);
    } else if ((frame.pixel_format == ONAIR_PIXEL_FORMAT_BGRA32 || frame.pixel_format == ONAIR_PIXEL_FORMAT_RGBA32) &&
               s != 0 && s != w * 4) {
        scratch.resize(static_cast<size_t>(w) * 4 * h);
        for (uint32_t r = 0; r < h; r++)
            memcpy(scratch.data() + static_cast<size_t>(r) * w * 4, frame.data + static_cast<size_t>(r) * s, w * 4u);
    } else {
        return out;
    }
    out.data = reinterpret_cast<char*>(scratch.data());
    out.length = static_cast<int32_t>(scratch.size());
    return out;
}

class Player final : public liteav::V2TXLivePlayer {
   public:
    Player() : handle_(onair_player_create()), observer_(nullptr) {}
    ~Player() override { onair_player_release(handle_); }
    Player(const Player&) = delete;
    Player& operator=(const Player&) = delete;

    void setObserver(liteav::V2TXLivePlayerObserver* observer) override {
        // Detach first: once this returns no callback of the old observer runs.
        onair_player_set_observer(handle_, nullptr, nullptr);
        observer_ = observer;
        if (observer != nullptr) {
            OnairPlayerObserver table = {};
            table.on_error = &Player::error;
            table.on_warning = &Player::warning;
            table.on_video_resolution_changed = &Player::resolution;
            table.on_connected = &Player::connected;
            table.on_video_playing = &Player::videoPlaying;
            table.on_audio_playing = &Player::audioPlaying;
            table.on_video_loading = &Player::videoLoading;
            table.on_audio_loading = &Player::audioLoading;
            table.on_playout_volume_update = &Player::volume;
            table.on_statistics_update = &Player::statistics;
            table.on_snapshot_complete = &Player::snapshotDone;
            table.on_render_video_frame = &Player::render;
            table.on_playout_audio_frame = &Player::audio;
            table.on_receive_sei_message = &Player::sei;
            table.on_stream_switched = &Player::switched;
            onair_player_set_observer(handle_, &table, this);
        }
    }
    int32_t setRenderView(void* /*view*/) override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    int32_t setRenderRotation(liteav::V2TXLiveRotation /*rotation*/) override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    int32_t setRenderFillMode(liteav::V2TXLiveFillMode /*mode*/) override { return liteav::V2TXLIVE_ERROR_NOT_SUPPORTED; }
    int32_t startPlay(const char* url) override { return onair_player_start_play(handle_, url); }
    int32_t stopPlay() override { return onair_player_stop_play(handle_); }
    int32_t isPlaying() override { return onair_player_is_playing(handle_); }
    int32_t pauseAudio() override { return onair_player_pause_audio(handle_); }
    int32_t resumeAudio() override { return onair_player_resume_audio(handle_); }
    int32_t pauseVideo() override { return onair_player_pause_video(handle_); }
    int32_t resumeVideo() override { return onair_player_resume_video(handle_); }
    int32_t setPlayoutVolume(int32_t volume) override { return onair_player_set_playout_volume(handle_, volume); }
    int32_t setCacheParams(float minTime, float maxTime) override { return onair_player_set_cache_params(handle_, minTime, maxTime); }
    int32_t switchStream(const char* newUrl) override { return onair_player_switch_stream(handle_, newUrl); }
    int32_t enableVolumeEvaluation(int32_t intervalMs) override { return onair_player_enable_volume_evaluation(handle_, intervalMs); }
    int32_t snapshot() override { return onair_player_snapshot(handle_); }
    int32_t enableObserveVideoFrame(bool enable, liteav::V2TXLivePixelFormat pixelFormat,
                                    liteav::V2TXLiveBufferType bufferType) override {
        return onair_player_enable_observe_video_frame(handle_, enable, to_onair(pixelFormat), to_onair(bufferType));
    }
    int32_t enableObserveAudioFrame(bool enable) override { return onair_player_enable_observe_audio_frame(handle_, enable); }
    int32_t enableReceiveSeiMessage(bool enable, int payloadType) override {
        return onair_player_enable_receive_sei_message(handle_, enable, payloadType);
    }
    void showDebugView(bool /*isShow*/) override {}
    int32_t setProperty(const char* key, const void* value) override {
        return onair_player_set_property(handle_, key, static_cast<const char*>(value));
    }

   private:
    static Player* me(void* self) { return static_cast<Player*>(self); }
    static void error(void* self, int32_t code, const char* msg, const char* extra) {
        me(self)->observer_->onError(me(self), code, msg, const_cast<char*>(extra));
    }
    static void warning(void* self, int32_t code, const char* msg, const char* extra) {
        me(self)->observer_->onWarning(me(self), code, msg, const_cast<char*>(extra));
    }
    static void resolution(void* self, int32_t w, int32_t h) { me(self)->observer_->onVideoResolutionChanged(me(self), w, h); }
    static void connected(void* self, const char* extra) { me(self)->observer_->onConnected(me(self), const_cast<char*>(extra)); }
    static void videoPlaying(void* self, bool first, const char* extra) {
        me(self)->observer_->onVideoPlaying(me(self), first, const_cast<char*>(extra));
    }
    static void audioPlaying(void* self, bool first, const char* extra) {
        me(self)->observer_->onAudioPlaying(me(self), first, const_cast<char*>(extra));
    }
    static void videoLoading(void* self, const char* extra) { me(self)->observer_->onVideoLoading(me(self), const_cast<char*>(extra)); }
    static void audioLoading(void* self, const char* extra) { me(self)->observer_->onAudioLoading(me(self), const_cast<char*>(extra)); }
    static void volume(void* self, int32_t v) { me(self)->observer_->onPlayoutVolumeUpdate(me(self), v); }
    static void switched(void* self, const char* url, int32_t code) { me(self)->observer_->onStreamSwitched(me(self), url, code); }
    static void statistics(void* self, const OnairPlayerStatistics* s) {
        liteav::V2TXLivePlayerStatistics out;
        out.appCpu = s->app_cpu;
        out.systemCpu = s->system_cpu;
        out.width = s->width;
        out.height = s->height;
        out.fps = s->fps;
        out.videoBitrate = s->video_bitrate;
        out.audioBitrate = s->audio_bitrate;
        out.audioPacketLoss = s->audio_packet_loss;
        out.videoPacketLoss = s->video_packet_loss;
        out.jitterBufferDelay = s->jitter_buffer_delay;
        out.audioTotalBlockTime = s->audio_total_block_time;
        out.audioBlockRate = s->audio_block_rate;
        out.videoTotalBlockTime = s->video_total_block_time;
        out.videoBlockRate = s->video_block_rate;
        out.rtt = s->rtt;
        out.netSpeed = s->net_speed;
        me(self)->observer_->onStatisticsUpdate(me(self), out);
    }
    static void snapshotDone(void* self, const OnairVideoFrame* image) {
        if (image == nullptr) {
            me(self)->observer_->onSnapshotComplete(me(self), nullptr, 0, 0, 0, liteav::V2TXLivePixelFormatUnknown);
            return;
        }
        std::vector<uint8_t> scratch;
        liteav::V2TXLiveVideoFrame f = packed(*image, scratch);
        me(self)->observer_->onSnapshotComplete(me(self), f.data, f.length, f.width, f.height, f.pixelFormat);
    }
    static void render(void* self, const OnairVideoFrame* frame) {
        liteav::V2TXLiveVideoFrame f = packed(*frame, me(self)->scratch_);
        me(self)->observer_->onRenderVideoFrame(me(self), &f);
    }
    static void audio(void* self, const OnairAudioFrame* frame) {
        liteav::V2TXLiveAudioFrame f;
        f.data = const_cast<char*>(reinterpret_cast<const char*>(frame->data));
        f.length = frame->length;
        f.sampleRate = frame->sample_rate;
        f.channel = frame->channels;
        me(self)->observer_->onPlayoutAudioFrame(me(self), &f);
    }
    static void sei(void* self, int32_t type, const uint8_t* data, uint32_t size) {
        me(self)->observer_->onReceiveSeiMessage(me(self), type, data, size);
    }

    OnairPlayer* handle_;
    liteav::V2TXLivePlayerObserver* observer_;
    /// Render frames are delivered on one thread (the media thread), so one buffer serves.
    std::vector<uint8_t> scratch_;
};

}  // namespace onair_liteav_detail

/// A player; release it with releaseV2TXLivePlayer.
inline liteav::V2TXLivePlayer* createV2TXLivePlayer() { return new onair_liteav_detail::Player(); }

/// Stops playing and frees the player; no observer callback runs after it returns.
inline void releaseV2TXLivePlayer(liteav::V2TXLivePlayer* player) {
    delete static_cast<onair_liteav_detail::Player*>(player);
}

#endif
