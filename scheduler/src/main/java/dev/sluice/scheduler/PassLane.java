package dev.sluice.scheduler;

/** Which sequences a scheduling pass considers: all, or only foreground or background ones ({@link BackgroundPolicy}). */
enum PassLane {
    ALL, FOREGROUND, BACKGROUND;

    boolean admits(Sequence seq) {
        return this == ALL || (this == BACKGROUND) == BackgroundPolicy.isBackground(seq);
    }
}
