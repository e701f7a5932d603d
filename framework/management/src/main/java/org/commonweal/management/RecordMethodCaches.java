package org.commonweal.management;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.runtime.ObjectMethods;

import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets go of the old bundle revision that the JDK's record methods keep after a refresh. A record's equals, hashCode
 * and toString are linked at first use by {@link ObjectMethods}, which adapts a few method handles shared JVM-wide to
 * the record's class and its component types; each shared handle keeps its last adaptation in a soft cache
 * ({@code MethodHandle.asTypeSoftCache}). So the record class linked last, its class loader, and every class loader
 * that one depends on (a bundle's loader keeps those it imported from), stay reachable until the heap runs short:
 * after a refresh, often a class of the old revision. That pinned the old chain and storage revisions in
 * StorageLifecycleIT and the old inference revision in HotUpgradeIT, in about one run in four.
 * <p>
 * Linking the record methods once more for a class of this bundle, which upgrades of the others leave in place,
 * replaces those cache entries: this component does it after every refresh of the framework, and the upgrade agent
 * before its leak probe. (Were this bundle refreshed, its new revision's listener would replace its old class.)
 */
@Component(service = {}, immediate = true)
public final class RecordMethodCaches implements FrameworkListener {

    private static final Logger LOG = LoggerFactory.getLogger(RecordMethodCaches.class);

    private final BundleContext context;

    @Activate
    public RecordMethodCaches(BundleContext context) {
        this.context = context;
        context.addFrameworkListener(this);
    }

    @Deactivate
    void deactivate() {
        context.removeFrameworkListener(this);
    }

    @Override
    public void frameworkEvent(FrameworkEvent event) {
        if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
            release();
        }
    }

    /**
     * Replaces what the shared handles of {@link ObjectMethods} cache (the receiver's class for equals, a component's
     * class for equals, hashCode and toString) by adaptations to this class. It must be a bundle's: an adaptation to a
     * class of the JDK's own loaders (the framework's, on the class path, among them) goes to a strong cache beside
     * the soft one, and would not replace it.
     */
    static void release() {
        Class<?> self = RecordMethodCaches.class;
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            MethodHandle component = MethodHandles.identity(self); // the accessor of a component typed as this class
            ObjectMethods.bootstrap(lookup, "equals", MethodType.methodType(boolean.class, self, Object.class), self,
                    "self", component);
            ObjectMethods.bootstrap(lookup, "hashCode", MethodType.methodType(int.class, self), self, "self", component);
            ObjectMethods.bootstrap(lookup, "toString", MethodType.methodType(String.class, self), self, "self", component);
        } catch (Throwable e) {
            // Only a cache: the old revision then goes when the heap runs short (soft references), as before.
            LOG.warn("event=record-method-caches-kept error=\"{}\"; an old bundle revision may stay in memory until the"
                    + " heap runs short", e.toString());
        }
    }
}
