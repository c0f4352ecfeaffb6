/*
 * lifecycle PUSH_URL PLAY_URL [ROUNDS]: the C API's lifetime rules, run under valgrind by
 * tests/c_api.rs.
 *
 * ROUNDS (20) times: create a pusher and a player, set observers, start pushing to PUSH_URL
 * with custom capture (a few frames) and playing PLAY_URL (a live stream), stop, release.
 * Then a pusher and a player that each release themselves from inside their own callback:
 * after that release returns no callback may arrive. Prints "lifecycle ok" and exits 0 when
 * every call answered as documented.
 */
#include <onair.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures;

#define EXPECT(cond, ...)                   \
    do {                                    \
        if (!(cond)) {                      \
            fprintf(stderr, __VA_ARGS__);   \
            fprintf(stderr, "\n");          \
            failures++;                     \
        }                                   \
    } while (0)

struct self_release {
    void *handle;
    atomic_int released; /* set once the release inside the callback returned */
    atomic_int late;     /* callbacks seen after that */
    pthread_mutex_t lock;
    pthread_cond_t done;
};

static void mark_released(struct self_release *s) {
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->released, 1);
    pthread_cond_signal(&s->done);
    pthread_mutex_unlock(&s->lock);
}

static int wait_released(struct self_release *s, int seconds) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&s->lock);
    while (!atomic_load(&s->released)) {
        if (pthread_cond_timedwait(&s->done, &s->lock, &until) != 0) break;
    }
    pthread_mutex_unlock(&s->lock);
    return atomic_load(&s->released);
}

static void pusher_status(void *user_data, int32_t status, const char *msg, const char *extra) {
    (void)status;
    (void)msg;
    (void)extra;
    struct self_release *s = user_data;
    if (atomic_load(&s->released)) {
        atomic_fetch_add(&s->late, 1);
        return;
    }
    if (s->handle != NULL) {
        void *h = s->handle;
        s->handle = NULL;
        onair_pusher_release(h);
        mark_released(s);
    }
}

static void pusher_any(void *user_data, int32_t code, const char *msg, const char *extra) {
    (void)code;
    (void)msg;
    (void)extra;
    struct self_release *s = user_data;
    if (atomic_load(&s->released)) atomic_fetch_add(&s->late, 1);
}

static void player_playing(void *user_data, bool first, const char *extra) {
    (void)first;
    (void)extra;
    struct self_release *s = user_data;
    if (atomic_load(&s->released)) {
        atomic_fetch_add(&s->late, 1);
        return;
    }
    if (s->handle != NULL) {
        void *h = s->handle;
        s->handle = NULL;
        onair_player_release(h);
        mark_released(s);
    }
}

static void player_frame(void *user_data, const OnairVideoFrame *frame) {
    (void)frame;
    struct self_release *s = user_data;
    if (atomic_load(&s->released)) atomic_fetch_add(&s->late, 1);
}

static void count_frame(void *user_data, const OnairVideoFrame *frame) {
    (void)frame;
    atomic_fetch_add((atomic_long *)user_data, 1);
}

static void quiet(void *user_data, int32_t code, const char *msg, const char *extra) {
    (void)user_data;
    (void)code;
    (void)msg;
    (void)extra;
}

static void observe_for(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PUSH_URL PLAY_URL [ROUNDS]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 20;
    static uint8_t picture[320 * 180 * 3 / 2];
    static int16_t pcm[960];
    memset(picture, 128, sizeof picture);
    OnairVideoFrame video = {ONAIR_PIXEL_FORMAT_I420, ONAIR_BUFFER_TYPE_BYTE_BUFFER, picture,
                             sizeof picture, 320, 180, 0, ONAIR_ROTATION_0};
    OnairAudioFrame audio = {(const uint8_t *)pcm, sizeof pcm, 48000, 1};
    OnairVideoEncoderParam param = {ONAIR_VIDEO_RESOLUTION_320X180,
                                    ONAIR_VIDEO_RESOLUTION_MODE_LANDSCAPE, 15, 0, 0};

    for (int i = 0; i < rounds; i++) {
        OnairPusher *pusher = onair_pusher_create();
        OnairPlayer *player = onair_player_create();
        EXPECT(pusher && player, "create failed");
        OnairPusherObserver po;
        memset(&po, 0, sizeof po);
        po.on_error = quiet;
        po.on_warning = quiet;
        OnairPlayerObserver lo;
        memset(&lo, 0, sizeof lo);
        static atomic_long rendered;
        lo.on_render_video_frame = count_frame;
        EXPECT(onair_pusher_set_observer(pusher, &po, NULL) == ONAIR_OK, "pusher observer");
        EXPECT(onair_player_set_observer(player, &lo, &rendered) == ONAIR_OK, "player observer");
        EXPECT(onair_pusher_set_video_quality(pusher, &param) == ONAIR_OK, "video quality");
        EXPECT(onair_pusher_enable_custom_video_capture(pusher, true) == ONAIR_OK, "custom video");
        EXPECT(onair_pusher_enable_custom_audio_capture(pusher, true) == ONAIR_OK, "custom audio");
        EXPECT(onair_player_enable_observe_video_frame(player, true, ONAIR_PIXEL_FORMAT_I420,
                                                       ONAIR_BUFFER_TYPE_BYTE_BUFFER) == ONAIR_OK,
               "observe video");
        EXPECT(onair_pusher_start_push(pusher, argv[1]) == ONAIR_OK, "start_push: %s",
               onair_last_error_message());
        EXPECT(onair_pusher_start_push(pusher, argv[1]) == ONAIR_ERROR_REFUSED, "second start_push");
        EXPECT(onair_player_start_play(player, argv[2]) == ONAIR_OK, "start_play: %s",
               onair_last_error_message());
        EXPECT(onair_pusher_is_pushing(pusher) == 1 && onair_player_is_playing(player) == 1,
               "running");
        EXPECT(onair_pusher_send_custom_video_frame(pusher, &video) == ONAIR_OK, "video frame");
        EXPECT(onair_pusher_send_custom_audio_frame(pusher, &audio) == ONAIR_OK, "audio frame");
        video.length = 7;
        EXPECT(onair_pusher_send_custom_video_frame(pusher, &video) ==
                   ONAIR_ERROR_INVALID_PARAMETER,
               "short frame refused");
        video.length = sizeof picture;
        EXPECT(onair_pusher_stop_push(pusher) == ONAIR_OK, "stop_push");
        EXPECT(onair_player_stop_play(player) == ONAIR_OK, "stop_play");
        EXPECT(onair_pusher_is_pushing(pusher) == 0 && onair_player_is_playing(player) == 0,
               "stopped");
        if (i % 2 == 1) {
            /* Every other round, release while running: release stops first. */
            EXPECT(onair_player_start_play(player, argv[2]) == ONAIR_OK, "restart play");
        }
        onair_pusher_release(pusher);
        onair_player_release(player);
    }

    /* A pusher that releases itself from its first status callback. */
    static struct self_release sp = {NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER,
                                     PTHREAD_COND_INITIALIZER};
    sp.handle = onair_pusher_create();
    OnairPusherObserver po;
    memset(&po, 0, sizeof po);
    po.on_push_status_update = pusher_status;
    po.on_error = pusher_any;
    po.on_warning = pusher_any;
    onair_pusher_set_observer(sp.handle, &po, &sp);
    onair_pusher_enable_custom_video_capture(sp.handle, true);
    EXPECT(onair_pusher_start_push(sp.handle, argv[1]) == ONAIR_OK, "self-release push");
    EXPECT(wait_released(&sp, 60), "the pusher's callback did not release it");
    observe_for(500);
    EXPECT(atomic_load(&sp.late) == 0, "%d pusher callbacks after release", atomic_load(&sp.late));

    /* A player that releases itself when video starts playing. */
    static struct self_release sl = {NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER,
                                     PTHREAD_COND_INITIALIZER};
    sl.handle = onair_player_create();
    OnairPlayerObserver lo;
    memset(&lo, 0, sizeof lo);
    lo.on_video_playing = player_playing;
    lo.on_render_video_frame = player_frame;
    onair_player_set_observer(sl.handle, &lo, &sl);
    onair_player_enable_observe_video_frame(sl.handle, true, ONAIR_PIXEL_FORMAT_I420,
                                            ONAIR_BUFFER_TYPE_BYTE_BUFFER);
    EXPECT(onair_player_start_play(sl.handle, argv[2]) == ONAIR_OK, "self-release play");
    EXPECT(wait_released(&sl, 120), "the player's callback did not release it");
    observe_for(500);
    EXPECT(atomic_load(&sl.late) == 0, "%d player callbacks after release", atomic_load(&sl.late));

    if (failures == 0) printf("lifecycle ok: %d rounds, 2 self-releases\n", rounds);
    return failures == 0 ? 0 : 1;
}
