// onair's LiteAV-compatible C++ API: V2TXLivePlayerObserver, with LiteAV's virtual callbacks
// (the player first, every one a no-op by default). onRenderVideoFrame and onPlayoutAudioFrame
// run on the player's media thread when the frame is due; the others on its callback thread.
#ifndef ONAIR_LITEAV_V2TXLIVEPLAYEROBSERVER_HPP
#define ONAIR_LITEAV_V2TXLIVEPLAYEROBSERVER_HPP

#include "V2TXLiveDef.hpp"

namespace liteav {

class V2TXLivePlayer;

class V2TXLivePlayerObserver {
   public:
    virtual ~V2TXLivePlayerObserver() {}

    virtual void onError(V2TXLivePlayer* /*player*/, int32_t /*code*/, const char* /*msg*/, void* /*extraInfo*/) {}
    virtual void onWarning(V2TXLivePlayer* /*player*/, int32_t /*code*/, const char* /*msg*/, void* /*extraInfo*/) {}
    virtual void onVideoResolutionChanged(V2TXLivePlayer* /*player*/, int /*width*/, int /*height*/) {}
    virtual void onConnected(V2TXLivePlayer* /*player*/, void* /*extraInfo*/) {}
    virtual void onVideoPlaying(V2TXLivePlayer* /*player*/, bool /*firstPlay*/, void* /*extraInfo*/) {}
    virtual void onAudioPlaying(V2TXLivePlayer* /*player*/, bool /*firstPlay*/, void* /*extraInfo*/) {}
    virtual void onVideoLoading(V2TXLivePlayer* /*player*/, void* /*extraInfo*/) {}
    virtual void onAudioLoading(V2TXLivePlayer* /*player*/, void* /*extraInfo*/) {}
    virtual void onPlayoutVolumeUpdate(V2TXLivePlayer* /*player*/, int32_t /*volume*/) {}
    virtual void onStatisticsUpdate(V2TXLivePlayer* /*player*/, V2TXLivePlayerStatistics /*statistics*/) {}
    virtual void onSnapshotComplete(V2TXLivePlayer* /*player*/, const char* /*image*/, int /*length*/, int /*width*/,
                                    int /*height*/, V2TXLivePixelFormat /*format*/) {}
    virtual void onRenderVideoFrame(V2TXLivePlayer* /*player*/, const V2TXLiveVideoFrame* /*videoFrame*/) {}
    virtual void onPlayoutAudioFrame(V2TXLivePlayer* /*player*/, const V2TXLiveAudioFrame* /*audioFrame*/) {}
    virtual void onReceiveSeiMessage(V2TXLivePlayer* /*player*/, int /*payloadType*/, const uint8_t* /*data*/,
                                     uint32_t /*dataSize*/) {}
    /// Never called by onair today: switchStream answers V2TXLIVE_ERROR_NOT_SUPPORTED.
    virtual void onStreamSwitched(V2TXLivePlayer* /*player*/, const char* /*url*/, int32_t /*code*/) {}
};

}  // namespace liteav

#endif
